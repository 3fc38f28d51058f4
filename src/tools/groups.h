/*
 * The tool groups, one file each; registry.c lists them in this order.
 * Each list is NULL-terminated.
 */
#ifndef SHEAF_TOOLS_GROUPS_H
#define SHEAF_TOOLS_GROUPS_H

#include "tools/tools.h"

extern const struct tool *const tools_info[];    /* info.c: shape, types, missing values, describe */
extern const struct tool *const tools_stats[];   /* stats.c: statistics, percentiles, histograms, outliers, correlation */
extern const struct tool *const tools_values[];  /* values.c: value counts, unique values, categories, cross tabs, group by */
extern const struct tool *const tools_rows[];    /* rows.c: filter, sort, sample */
extern const struct tool *const tools_time[];    /* time.c: date ranges, temporal patterns, geo bounds */

#endif
