/* SPDX-License-Identifier: MIT */
/*
 * defaults.h - every limit and default of the daemon, in one place. The -o option table in
 * options.c, the --help text and docs/ are generated from or checked against these.
 */
#ifndef IPCFS_DEFAULTS_H
#define IPCFS_DEFAULTS_H

/* Where `ipcfs` and `ipcctl` mount and look when no mount point is given (root). */
#define IPCFS_DEFAULT_MOUNTPOINT "/run/ipcfs"

/* Longest name of one path component, as on other Linux filesystems. */
#define IPCFS_NAME_MAX 255

/* -o max_objects: objects and directories below the type directories, at most. */
#define IPCFS_DEFAULT_MAX_OBJECTS 100000
/* -o max_memory: bytes the daemon may spend on objects, their names and their contents. */
#define IPCFS_DEFAULT_MAX_MEMORY (256ULL << 20)

/*
 * An open of a mutex by the process that holds it: the holder may just have closed its
 * descriptor, and the kernel sends that RELEASE asynchronously, so the open waits this long
 * for it before failing with EDEADLK.
 */
#define IPCFS_EDEADLK_GRACE_MS 100

/* Cache lifetimes given to the kernel, in seconds. Every namespace change goes through this
 * mount, so entries may be cached long; object sizes change with every operation: never. */
#define IPCFS_ENTRY_TIMEOUT 3600.0
#define IPCFS_DIR_ATTR_TIMEOUT 1.0
#define IPCFS_OBJ_ATTR_TIMEOUT 0.0

#endif /* IPCFS_DEFAULTS_H */
