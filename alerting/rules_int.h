/* rules_int.h: the rules' private parts, shared by rules.c (parser),
 * rules_defaults.c (the built-in rules) and rules_judge.c (matching and
 * judging). Only these files include it; rules.h is the interface. */
#ifndef HR_RULES_INT_H
#define HR_RULES_INT_H

#include <stddef.h>

#include "cfg.h"
#include "rules.h"

struct rules {
	struct rule *v;
	size_t n, cap;
};

/* Labels the lifecycle sets itself (alert.h, the webhook payload). */
extern const char *const rules_reserved_labels[];

/* s's index in the NULL-terminated words, or -1. */
int rules_word_index(const char *const *words, const char *s);
/* Parses doc's "rules" into rs (borrows doc): builtin rules as they are, a
 * file's merged over them; 0, or -1 with every problem in errs. */
int rules_parse_doc(const cJSON *doc, int builtin, struct rules *rs, struct hr_errs *errs);
/* The built-in rules, parsed; NULL with errs set. Caller frees (rules_free). */
struct rules *rules_defaults_into(struct hr_errs *errs);

#endif
