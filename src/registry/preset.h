/*
 * Loading the ECLO preset's model (SHEAF_ECLO_MODEL): "builtin" is the
 * model linked into the binary (trained by `make eclo-model`, see
 * models/eclo/RECORD.md), "off" none, anything else a model file written
 * by `sheaf train`.  The version a prediction reports names the model's
 * bytes: "eclo-" and the first 12 hex digits of their SHA-256.
 */
#ifndef SHEAF_REGISTRY_PRESET_H
#define SHEAF_REGISTRY_PRESET_H

#include "base/error.h"
#include "models/eclo.h"

/* NULL with e set (also for "off": e says so). */
struct eclo *eclo_preset_load(const char *setting, struct error *e);

#endif
