/* SPDX-License-Identifier: MIT */
/*
 * loop.c - the request loop, with the thread settings of the command line. Shared with the
 * benchmark's null filesystem (tests/bench_nullfs.c), so that the FUSE floor it measures runs
 * the very loop the daemon does.
 */
#include "ipcfs.h"

#include <limits.h>

int session_loop(struct fuse_session *se, const struct fuse_cmdline_opts *cmd)
{
	struct fuse_loop_config *cfg;
	int ret;

	if (cmd->singlethread)
		return fuse_session_loop(se);
	cfg = fuse_loop_cfg_create();
	if (!cfg)
		return -1;
	fuse_loop_cfg_set_clone_fd(cfg, (unsigned)cmd->clone_fd);
	fuse_loop_cfg_set_max_threads(cfg, cmd->max_threads);
	/* only when given: setting it otherwise makes libfuse log a spurious warning */
	if (cmd->max_idle_threads != UINT_MAX)
		fuse_loop_cfg_set_idle_threads(cfg, cmd->max_idle_threads);
	ret = fuse_session_loop_mt(se, cfg);
	fuse_loop_cfg_destroy(cfg);
	return ret;
}
