/*
 * stem.h - words and stems: the one tokenizer that every relevance signal shares.
 *
 * Text is split into words the same way everywhere (FTS5 index, FTS5 queries, WordNet
 * look-ups, word vectors): runs of letters and digits, ASCII lower-cased, common Latin,
 * Greek and Cyrillic capitals folded, any other valid multibyte UTF-8 letter kept as part
 * of the word, and everything else (punctuation, spaces, symbols, emoji, invalid bytes) a
 * separator. Stems come from libstemmer's Snowball "english" algorithm (Porter2), the
 * same stemmer as PostgreSQL's `english` text search configuration, so both store
 * backends index and rank the same terms. No stopwords are dropped here: FTS5 needs every
 * position for phrase queries. eg_is_stopword() is for building queries.
 *
 * Thread-safety: eg_words() and eg_is_stopword() are pure. A struct eg_stemmer wraps a
 * libstemmer object, which is not thread-safe: use one per thread (or per call). The FTS5
 * tokenizer creates one per tokenizer instance, so SQLite connections never share one.
 */
#ifndef EG_STEM_H
#define EG_STEM_H

#include <stddef.h>
#include <sqlite3.h>

/* Longest word, in bytes, passed to a callback; longer runs are cut at a character boundary
 * (and not stemmed). Cutting the same way for documents and queries keeps them matching. */
#define EG_WORD_MAX 128

/*
 * Called once per word. tok (not NUL-terminated) holds n bytes of the folded, and for
 * eg_stem_tokens() stemmed, word; it is valid only during the call. [start, end) is the
 * word's byte range in the original text. Return 0 to go on; any other value stops the
 * scan and becomes the scanner's return value.
 */
typedef int (*eg_token_fn)(void *arg, const char *tok, size_t n, size_t start, size_t end);

struct eg_stemmer;

/* A new English stemmer, or NULL when memory ran out. Free with eg_stemmer_free(). */
struct eg_stemmer *eg_stemmer_new(void);

/* Frees a stemmer; NULL is a harmless no-op. */
void eg_stemmer_free(struct eg_stemmer *st);

/*
 * Splits text[0..len) into words and calls fn with each word's stem, in order.
 * Returns ENGRAM_OK, ENGRAM_NOMEM if libstemmer ran out of memory, or fn's nonzero value.
 * Ownership: text is only read during the call; st is used, so not concurrently.
 */
int eg_stem_tokens(struct eg_stemmer *st, const char *text, size_t len, eg_token_fn fn, void *arg);

/*
 * Stems one already folded word (as eg_words() gives it). *out points into the stemmer
 * and stays valid until its next use. Returns ENGRAM_OK or ENGRAM_NOMEM (*out NULL).
 */
int eg_stem_word(struct eg_stemmer *st, const char *word, size_t n, const char **out,
                 size_t *out_n);

/*
 * Splits text into folded, unstemmed words (the form WordNet and the word vectors are keyed
 * by). Returns ENGRAM_OK or fn's nonzero value. Thread-safe; allocates nothing.
 */
int eg_words(const char *text, size_t len, eg_token_fn fn, void *arg);

/* 1 when the folded word tok[0..n) is a common English function word, else 0. */
int eg_is_stopword(const char *tok, size_t n);

/*
 * A document's tokens as the "engram" FTS5 tokenizer emits them, made ahead of time: the
 * ingest leader indexes turns inside the write lock, where scanning and stemming their
 * text was a fifth of its work on conversation turns; callers make these on their own
 * threads before queuing, and the tokenizer replays them (eg_fts_docs).
 */
struct eg_fts_doc {
    const char *text; /* the text the tokens are of: not owned, must outlive the replay */
    size_t len;
    char *rec;        /* per token: int32 start, int32 end, int32 n, then n bytes */
    size_t nrec, cap;
};

/* Tokenizes text[0..len) into *out (which must be zeroed) with st. ENGRAM_OK or
 * ENGRAM_NOMEM (then *out is empty). Free with eg_fts_doc_clear(). */
int eg_fts_doc_make(struct eg_stemmer *st, const char *text, size_t len, struct eg_fts_doc *out);
void eg_fts_doc_clear(struct eg_fts_doc *d);

/*
 * Documents offered to a connection's tokenizer, in the order they will be indexed. When
 * FTS5 asks to tokenize a document whose text equals (byte for byte) the one at the head,
 * the tokenizer replays its tokens and moves on; any other text is tokenized as usual. A
 * match is checked, not assumed, so a queue out of step costs only speed, never a wrong
 * index. The queue holds pointers: its documents must outlive its reset.
 */
struct eg_fts_docs {
    const struct eg_fts_doc **v;
    size_t n, head, cap;
};

/* Appends d; ENGRAM_NOMEM leaves the queue as it was (that document is then tokenized). */
int eg_fts_docs_push(struct eg_fts_docs *q, const struct eg_fts_doc *d);
/* Empties the queue, keeping its memory; eg_fts_docs_free releases it. */
void eg_fts_docs_reset(struct eg_fts_docs *q);
void eg_fts_docs_free(struct eg_fts_docs *q);

/*
 * Registers the FTS5 tokenizer "engram" on db (use: `tokenize='engram'`). It emits the
 * stems of eg_stem_tokens(); for prefix queries (`run*`) the word is folded but not
 * stemmed, so the prefix still matches the stems in the index. pre: NULL, or the queue of
 * documents made ahead of time for this connection (used only by this connection's
 * thread, as the connection itself). Returns ENGRAM_OK, ENGRAM_NOMEM, or ENGRAM_ERROR when
 * this SQLite has no FTS5.
 */
int eg_stem_register_fts5(sqlite3 *db, struct eg_fts_docs *pre);

#endif
