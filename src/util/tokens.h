/*
 * tokens.h - a conservative token estimate, stated so callers can trust a budget.
 */
#ifndef EG_TOKENS_H
#define EG_TOKENS_H

/*
 * A conservative token estimate, stated so callers can trust the budget: GPT-style BPE
 * tokenizers spend one token on a common English word with its leading space, one on each
 * punctuation mark, more on long or rare words and on digits. We count one token per run of
 * up to 7 letters (plus one per further 7), one per 3 digits, one per punctuation mark or
 * symbol, one per 2 bytes of non-ASCII text, and add 10%. On English chat this is above the
 * real count (cl100k gives ~0.8x of it); it is never the 4-bytes-a-token guess that
 * overruns on names, numbers and non-English text. text is NUL-terminated; never fails.
 */
int eg_tokens_estimate(const char *text);

#endif
