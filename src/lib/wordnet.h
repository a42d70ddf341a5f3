/*
 * wordnet.h - WordNet synonyms for query expansion, read by our own loader from the files of
 * Debian's `wordnet-base` (/usr/share/wordnet; format in wndb(5) and wninput(5)).
 *
 * Only the FIRST sense of each lemma is kept, per part of speech (noun, verb, adjective):
 * first senses are the most frequent ones (WordNet orders senses by tagged frequency), and
 * expanding with rare senses ("bank" -> "depository financial institution" is fine,
 * "bank" -> "camber" is not) adds more noise than recall. A lemma that is a noun and a verb
 * gets the union of both first senses' synonyms, nouns first.
 *
 * The handle is built once and never written again: look-ups need no lock and can run on
 * any number of threads. There is no global state; every engine opens its own.
 */
#ifndef EG_WORDNET_H
#define EG_WORDNET_H

#include <stddef.h>

struct eg_wordnet;

/*
 * Loads dir/index.{noun,verb,adj} and dir/data.{noun,verb,adj} (a part of speech whose two
 * files are missing is skipped), and dir/{noun,verb,adj}.exc when present, for irregular
 * inflections ("mice" -> "mouse"). Returns ENGRAM_OK and *out, ENGRAM_NOTFOUND when dir
 * holds no usable index/data pair (the engine logs once and runs without synonyms),
 * ENGRAM_NOMEM, or ENGRAM_ERROR for an unreadable file. *out is NULL on failure.
 */
int eg_wordnet_open(const char *dir, struct eg_wordnet **out);

/*
 * eg_wordnet_open() through a cache file: when cache_path holds an image made from the
 * same source files (same sizes and mtimes), it is read back in a few milliseconds instead
 * of re-parsing WordNet (well over 100 ms); otherwise dir is parsed and the image written to
 * cache_path (atomically, best effort: a read-only data directory just means no cache).
 * The engine passes "<data_dir>/wordnet.cache". cache_path NULL = eg_wordnet_open().
 * Same return values as eg_wordnet_open(); a damaged cache is ignored and rewritten.
 */
int eg_wordnet_open_cached(const char *dir, const char *cache_path, struct eg_wordnet **out);

/* Frees the handle; NULL is a harmless no-op. */
void eg_wordnet_close(struct eg_wordnet *wn);

/*
 * The synonyms of lemma[0..n) (case-insensitive; "ice cream" and "ice_cream" are the same
 * lemma). Synonyms are lower-case, NUL-terminated, multi-word ones joined by single spaces,
 * never the lemma itself, without duplicates, most relevant part of speech first. When the
 * exact lemma has none, its base form is tried: irregular forms from the .exc files, then
 * WordNet's regular detachment rules ("allergies" -> "allergy", "running" -> "run").
 * Returns ENGRAM_OK with *out_n >= 1, or ENGRAM_NOTFOUND (*out NULL, *out_n 0).
 * Ownership: the array and strings belong to wn and live until eg_wordnet_close().
 */
int eg_wordnet_synonyms(const struct eg_wordnet *wn, const char *lemma, size_t n,
                        const char *const **out, size_t *out_n);

/* How many lemmas have at least one synonym (for logs and tests). */
size_t eg_wordnet_count(const struct eg_wordnet *wn);

#endif
