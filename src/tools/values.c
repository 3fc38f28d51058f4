/* Tools of this group; see groups.h. */
#include "tools/groups.h"

const struct tool *const tools_values[] = {
	NULL,
};
