/* The version sheaf reports (/health, --version); the build may append a git id. */
#ifndef SHEAF_VERSION_H
#define SHEAF_VERSION_H

#ifndef SHEAF_GIT
#define SHEAF_GIT "unknown"
#endif

#define SHEAF_VERSION "0.1.0"
#define SHEAF_VERSION_FULL SHEAF_VERSION "+" SHEAF_GIT

#endif
