// SPDX-License-Identifier: Apache-2.0
/* The faultgate command: subcommands, their options and help, and the exit
 * codes scripts rely on (0 pass, 1 failed or aborted, 2 could not run). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FG_LOG_COMPONENT "agent"
#include "error.h"
#include "inject.h"
#include "inspect.h"
#include "log.h"
#include "playbook.h"
#include "run.h"
#include "units.h"

#ifndef FG_VERSION
#define FG_VERSION "0.0.0"
#endif

#define EXIT_USAGE 2

enum {
	OPT_NO_PROGRESS = 0x100,
	OPT_LOG_LEVEL,
	OPT_VERSION,
	OPT_SAMPLE_INTERVAL,
};

static const char *arg_report_dir;
static bool arg_progress = true;
static bool arg_quiet;
static int64_t arg_sample_interval_ns;
static const char *arg_playbook;
static pid_t arg_pid;
static const char *arg_for;
static const char *arg_journal;
static char **arg_params;	/* inject: KIND, then KEY=VALUE ... */
static size_t arg_n_params;

#define OPT_PID 0x300
#define OPT_FOR 0x301
#define OPT_JOURNAL 0x302
static bool arg_json;

#define OPT_JSON 0x200

struct command {
	const char *name;
	int (*run)(void);
	void (*help)(void);
	const struct option *options;
	const char *short_options;
	/* positional arguments other than one PLAYBOOK; <0 usage error */
	int (*positional)(const char *cmd, int argc, char **argv);
};

static const char exit_codes_text[] =
	"Exit codes:\n"
	"  0  every gate passed\n"
	"  1  a gate failed, the target died mid-run, or a stop condition aborted the run\n"
	"  2  the experiment could not run (bad playbook or option, target not ready,\n"
	"     a fault this build or target cannot serve)\n";

static void help_main(void)
{
	printf(
	    "Usage: faultgate COMMAND [OPTIONS] ...\n"
	    "\n"
	    "Chaos experiments as release gates: run a service, load it, inject faults\n"
	    "(slow or failing I/O, GOMAXPROCS, ...) in a timed window, and judge the run\n"
	    "by gates on latency, errors and the target's vitals.\n"
	    "\n"
	    "Commands:\n"
	    "  run PLAYBOOK     run the experiment: baseline, fault, recovery, gates, reports\n"
	    "  check PLAYBOOK   validate the playbook and print the plan, touching nothing\n"
	    "  inspect PID      Go-aware diagnosis of a running process, changing nothing\n"
	    "  inject KIND --pid PID [KEY=VALUE ...] [--for DURATION]\n"
	    "                   one fault on a running process until Ctrl-C (game days)\n"
	    "  recover [--journal FILE]\n"
	    "                   undo what a killed faultgate left (affinity, leaked\n"
	    "                   memory, GOMAXPROCS)\n"
	    "  help COMMAND     the options of one command\n"
	    "\n"
	    "Options:\n"
	    "  -h, --help       this text (or, after a command, its own)\n"
	    "      --version    print the version\n"
	    "\n"
	    "The log level comes from FG_LOG (\"info\", \"debug,notify:debug\", ...) and\n"
	    "--log-level, which wins.\n"
	    "\n"
	    "%s"
	    "\n"
	    "Example:\n"
	    "  faultgate check playbooks/examples/slow-io.yaml\n"
	    "  faultgate run playbooks/examples/slow-io.yaml --report-dir out/\n",
	    exit_codes_text);
}

static void help_run(void)
{
	printf(
	    "Usage: faultgate run PLAYBOOK [OPTIONS]\n"
	    "\n"
	    "Launch the playbook's target (target.command) and wait until it is ready,\n"
	    "or attach to a running one (target.pid, target.process); send the load\n"
	    "through the baseline, fault and recovery phases while the faults are\n"
	    "applied in their windows, then revert everything, evaluate the gates and\n"
	    "write report.json, junit.xml, report.html and target.log. SIGINT or SIGTERM\n"
	    "reverts at once; the reports are still written (verdict \"aborted\"). A\n"
	    "target that faultgate attached to is left running.\n"
	    "\n"
	    "Options:\n"
	    "  -r, --report-dir DIR   write the reports into DIR instead of report.dir\n"
	    "      --no-progress      no live progress line (it is only shown on a terminal)\n"
	    "  -q, --quiet            no result table on stdout\n"
	    "      --sample-interval DURATION\n"
	    "                         how often the vitals are sampled (default 100ms,\n"
	    "                         10ms to 10s); shorter costs the target more\n"
	    "      --log-level LEVEL  error, warn, info (default) or debug; or a spec\n"
	    "                         such as \"info,notify:debug\"\n"
	    "  -h, --help             this text\n"
	    "\n"
	    "%s"
	    "\n"
	    "Example:\n"
	    "  faultgate run checkout.yaml --report-dir ci-out --no-progress\n"
	    "  jq .verdict ci-out/report.json\n",
	    exit_codes_text);
}

static void help_check(void)
{
	printf(
	    "Usage: faultgate check PLAYBOOK [OPTIONS]\n"
	    "\n"
	    "Validate the playbook and print the plan: target and what its binary is,\n"
	    "readiness, load, phases with their times, each fault with its window and\n"
	    "the backend that serves it (and why), gates, stop conditions and the report\n"
	    "directory. Nothing is started.\n"
	    "\n"
	    "Options:\n"
	    "      --log-level LEVEL  error, warn, info (default) or debug\n"
	    "  -h, --help             this text\n"
	    "\n"
	    "Exit codes:\n"
	    "  0  the playbook is valid and every fault can be served\n"
	    "  2  it is not (one line FILE:LINE:COL: message on stderr), or a fault\n"
	    "     cannot be served on this target by this build\n"
	    "\n"
	    "Example:\n"
	    "  faultgate check checkout.yaml\n");
}

static void help_inspect(void)
{
	printf(
	    "Usage: faultgate inspect PID [OPTIONS]\n"
	    "\n"
	    "Diagnose a running process without changing or stopping it: for a Go\n"
	    "program its Go version, GOMAXPROCS and goroutines by state (read from\n"
	    "the runtime's memory; GOMAXPROCS through a read-only runtime call, which\n"
	    "holds one thread for a moment, only when the binary does not show where\n"
	    "it is); for every process its threads with state, the syscall each one\n"
	    "waits in, CPU time, run-queue wait (schedstat) and context switches,\n"
	    "and its RSS.\n"
	    "\n"
	    "Reading it:\n"
	    "  goroutines that grow from one inspect to the next  a goroutine leak\n"
	    "  runnable goroutines well above GOMAXPROCS         P starvation: too\n"
	    "                                                    few Ps, or a P held\n"
	    "  threads in read, write, connect, ... for long     Ms stuck in syscalls\n"
	    "                                                    (each ties up a thread)\n"
	    "  high MS/SLICE (run-queue wait per scheduling)     not enough CPU\n"
	    "  futex, epoll_pwait, nanosleep                     idle Ms, netpoller,\n"
	    "                                                    sysmon: normal\n"
	    "\n"
	    "Options:\n"
	    "      --json             one JSON object instead of the table\n"
	    "      --log-level LEVEL  error, warn, info (default) or debug\n"
	    "  -h, --help             this text\n"
	    "\n"
	    "Exit codes:\n"
	    "  0  printed\n"
	    "  2  no such process, a zombie, or /proc cannot be read\n"
	    "\n"
	    "Example:\n"
	    "  faultgate inspect $(pidof my-service) --json | jq .go.goroutines\n");
}

static int cmd_inspect(void)
{
	char *end;
	long pid;

	errno = 0;
	pid = strtol(arg_playbook, &end, 10);
	if (errno || *end || pid <= 0 || pid > INT32_MAX) {
		fprintf(stderr, "faultgate inspect: '%s' is not a process id\n", arg_playbook);
		return EXIT_USAGE;
	}
	return inspect_print((pid_t)pid, arg_json, stdout) < 0 ? EXIT_USAGE : EXIT_SUCCESS;
}

static int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void help_inject(void)
{
	printf(
	    "Usage: faultgate inject KIND --pid PID [KEY=VALUE ...] [OPTIONS]\n"
	    "\n"
	    "Apply one fault to a running process, without a playbook: for game days.\n"
	    "KIND and the KEY=VALUE parameters are those of a playbook fault (see\n"
	    "docs/playbook.md) and are checked the same way; a list is written\n"
	    "cpus=0,1. The fault holds for --for, or until Ctrl-C or SIGTERM, which\n"
	    "revert it at once; then the fault's counters are printed. The process is\n"
	    "never stopped. Every change is journaled: if faultgate is killed, its\n"
	    "guardian reverts it, and 'faultgate recover' does by hand.\n"
	    "\n"
	    "Options:\n"
	    "      --pid PID          the process (required)\n"
	    "      --for DURATION     how long (default: until Ctrl-C; at most 24h)\n"
	    "  -r, --report-dir DIR   where report.json and the journal go\n"
	    "                         (default faultgate-out)\n"
	    "      --no-progress      no live progress line\n"
	    "  -q, --quiet            no result table on stdout\n"
	    "      --log-level LEVEL  error, warn, info (default) or debug\n"
	    "  -h, --help             this text\n"
	    "\n"
	    "Exit codes:\n"
	    "  0  the fault ran and was reverted (Ctrl-C included)\n"
	    "  1  the process exited while the fault was applied\n"
	    "  2  it could not run (bad parameter, no such process, already traced,\n"
	    "     missing CAP_SYS_PTRACE, a fault that cannot act on a running process)\n"
	    "\n"
	    "Examples:\n"
	    "  faultgate inject freeze-thread --pid 4242 pick=busiest hold=500ms every=2s\n"
	    "  faultgate inject pin-threads --pid 4242 cpus=0 --for 30s\n");
}

static void help_recover(void)
{
	printf(
	    "Usage: faultgate recover [--journal FILE] [OPTIONS]\n"
	    "\n"
	    "Undo what a faultgate run left behind when both it and its guardian were\n"
	    "killed: thread affinity masks, memory mapped into the target, GOMAXPROCS.\n"
	    "Every run journals each change before making it (DIR/journal, linked as\n"
	    "RUNDIR/RUNNER-PID.journal; RUNDIR is $FAULTGATE_RUN_DIR, /run/faultgate,\n"
	    "or $XDG_RUNTIME_DIR/faultgate). Without --journal, every linked journal\n"
	    "whose runner is gone is replayed; journals of live runs are left alone.\n"
	    "Replaying twice is harmless.\n"
	    "\n"
	    "Options:\n"
	    "      --journal FILE     replay this journal only\n"
	    "      --log-level LEVEL  error, warn, info (default) or debug\n"
	    "  -h, --help             this text\n"
	    "\n"
	    "Exit codes:\n"
	    "  0  everything reverted, or nothing was left\n"
	    "  1  some change could not be reverted (the lines say which)\n"
	    "  2  a journal could not be read\n"
	    "\n"
	    "Example:\n"
	    "  faultgate recover --journal ci-out/journal\n");
}

static int cmd_inject(void)
{
	struct run_options o = {
		.report_dir = arg_report_dir,
		.progress = arg_progress,
		.quiet = arg_quiet,
		.adhoc = true,
	};
	struct fg_error err = {0};
	struct playbook *pb = NULL;
	int code;

	if (inject_build(arg_params[0], arg_pid, arg_for, arg_params + 1, arg_n_params - 1,
			 &pb, &err) < 0) {
		fprintf(stderr, "faultgate inject: %s\n", err.msg);
		return EXIT_USAGE;
	}
	code = run_playbook(pb, &o);
	playbook_free(pb);
	return code;
}

static int cmd_recover(void)
{
	return recover_run(arg_journal);
}

static int inject_positional(const char *cmd, int argc, char **argv)
{
	if (argc < 1)
		return usage_error(cmd, "missing the fault KIND");
	if (arg_pid <= 0)
		return usage_error(cmd, "--pid PID is required");
	arg_params = argv;
	arg_n_params = (size_t)argc;
	return 1;
}

static int recover_positional(const char *cmd, int argc, char **argv)
{
	if (argc > 0)
		return usage_error(cmd, "unexpected argument '%s'", argv[0]);
	return 1;
}

static int parse_pid(const char *cmd, const char *s)
{
	char *end;
	long pid;

	errno = 0;
	pid = strtol(s, &end, 10);
	if (errno || *end || pid <= 0 || pid > INT32_MAX)
		return usage_error(cmd, "--pid '%s' is not a process id", s);
	arg_pid = (pid_t)pid;
	return 0;
}

static int load_playbook(struct playbook **ret)
{
	struct fg_error err = {0};
	char line[700];
	int r;

	r = playbook_load(arg_playbook, ret, &err);
	if (r >= 0)
		return 0;
	if (!err.msg[0])
		fg_error_set(&err, -r, 0, 0, "%s", strerror(-r));
	fprintf(stderr, "%s\n",
		fg_error_format(&err, arg_playbook, line, sizeof(line)));
	return r;
}

static int cmd_run(void)
{
	struct run_options o = {
		.report_dir = arg_report_dir,
		.progress = arg_progress,
		.quiet = arg_quiet,
		.sample_interval_ns = arg_sample_interval_ns,
	};
	struct playbook *pb = NULL;
	int code;

	if (load_playbook(&pb) < 0)
		return EXIT_USAGE;
	code = run_playbook(pb, &o);
	playbook_free(pb);
	return code;
}

static int cmd_check(void)
{
	struct playbook *pb = NULL;
	int code;

	if (load_playbook(&pb) < 0)
		return EXIT_USAGE;
	code = run_plan_print(pb, stdout);
	fflush(stdout);
	playbook_free(pb);
	return code;
}

/* clang-format off */
static const struct option run_options[] = {
	{ "report-dir",  required_argument, NULL, 'r' },
	{ "no-progress", no_argument,       NULL, OPT_NO_PROGRESS },
	{ "quiet",       no_argument,       NULL, 'q' },
	{ "log-level",   required_argument, NULL, OPT_LOG_LEVEL },
	{ "sample-interval", required_argument, NULL, OPT_SAMPLE_INTERVAL },
	{ "help",        no_argument,       NULL, 'h' },
	{}
};

static const struct option check_options[] = {
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help",      no_argument,       NULL, 'h' },
	{}
};

static const struct option inspect_options[] = {
	{ "json",      no_argument,       NULL, OPT_JSON },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help",      no_argument,       NULL, 'h' },
	{}
};

static const struct option inject_options[] = {
	{ "pid",         required_argument, NULL, OPT_PID },
	{ "for",         required_argument, NULL, OPT_FOR },
	{ "report-dir",  required_argument, NULL, 'r' },
	{ "no-progress", no_argument,       NULL, OPT_NO_PROGRESS },
	{ "quiet",       no_argument,       NULL, 'q' },
	{ "log-level",   required_argument, NULL, OPT_LOG_LEVEL },
	{ "help",        no_argument,       NULL, 'h' },
	{}
};

static const struct option recover_options[] = {
	{ "journal",   required_argument, NULL, OPT_JOURNAL },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help",      no_argument,       NULL, 'h' },
	{}
};

/* A command without run() is part of the contract but not built yet. */
static const struct command commands[] = {
	{ "run",     cmd_run,   help_run,   run_options,   ":r:qh", NULL },
	{ "check",   cmd_check, help_check, check_options, ":h", NULL },
	{ "inject",  cmd_inject, help_inject, inject_options, ":r:qh", inject_positional },
	{ "inspect", cmd_inspect, help_inspect, inspect_options, ":h", NULL },
	{ "recover", cmd_recover, help_recover, recover_options, ":h", recover_positional },
	/* Part of the command contract, not built yet: they say so. */
	{ "agent",   NULL, NULL, NULL, NULL, NULL },
	{ "ctl",     NULL, NULL, NULL, NULL, NULL },
	{ "exec",    NULL, NULL, NULL, NULL, NULL },
};
/* clang-format on */

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* One line naming what was wrong, and where to look. */
static int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "faultgate%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (cmd)
		fprintf(stderr, "; see faultgate %s --help\n", cmd);
	else
		fprintf(stderr, "; see faultgate --help\n");
	return -EINVAL;
}

static int set_log_level(const char *cmd, const char *spec)
{
	if (fg_log_setup(spec) < 0)
		return usage_error(
		    cmd, "invalid log level '%s' (error, warn, info, debug)",
		    spec);
	return 0;
}

static int not_available(const char *name)
{
	fprintf(stderr,
		"faultgate: '%s' is not available in this version yet\n", name);
	return -EOPNOTSUPP;
}

/* The options of @cmd, from argv[0] = its name. Return: <0 error, 0 done
 * (help shown), >0 go on and run it. */
static int parse_command_argv(const struct command *cmd, int argc, char **argv)
{
	char bad[3] = "-?";
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, cmd->short_options, cmd->options,
				NULL)) != -1) {
		switch (c) {
		case 'h':
			cmd->help();
			return 0;
		case 'r':
			arg_report_dir = optarg;
			break;
		case 'q':
			arg_quiet = true;
			break;
		case OPT_NO_PROGRESS:
			arg_progress = false;
			break;
		case OPT_PID:
			if (parse_pid(cmd->name, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_FOR:
			arg_for = optarg;
			break;
		case OPT_JOURNAL:
			arg_journal = optarg;
			break;
		case OPT_JSON:
			arg_json = true;
			break;
		case OPT_LOG_LEVEL:
			if (set_log_level(cmd->name, optarg) < 0)
				return -EINVAL;
			break;
		case OPT_SAMPLE_INTERVAL:
			if (fg_parse_duration(optarg, &arg_sample_interval_ns) < 0 ||
			    arg_sample_interval_ns < 10 * 1000000LL ||
			    arg_sample_interval_ns > 10 * 1000000000LL)
				return usage_error(cmd->name,
						   "invalid --sample-interval '%s' (10ms to 10s)",
						   optarg);
			break;
		case ':':
			return usage_error(cmd->name,
					   "option '%s' needs a value",
					   argv[optind - 1]);
		case '?':
		default:
			if (optopt) {
				bad[1] = (char)optopt;
				return usage_error(cmd->name,
						   "unknown option '%s'", bad);
			}
			return usage_error(cmd->name, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (cmd->positional)
		return cmd->positional(cmd->name, argc - optind, argv + optind);
	if (optind >= argc)
		return usage_error(cmd->name, "missing the %s argument",
				   cmd->run == cmd_inspect ? "PID" : "PLAYBOOK");
	if (optind + 1 < argc)
		return usage_error(cmd->name, "unexpected argument '%s'",
				   argv[optind + 1]);
	arg_playbook = argv[optind];
	return 1;
}

static int help_command(int argc, char **argv)
{
	const struct command *cmd;

	if (argc < 2) {
		help_main();
		return 0;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[1]);
	if (!cmd->run)
		return not_available(cmd->name);
	cmd->help();
	return 0;
}

/* clang-format off */
static const struct option main_options[] = {
	{ "help",    no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{}
};
/* clang-format on */

/* Options before the command. Return: as parse_command_argv(). */
static int parse_argv(int argc, char **argv, const struct command **ret_cmd)
{
	const struct command *cmd;
	char bad[3] = "-?";
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", main_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			help_main();
			return 0;
		case OPT_VERSION:
			printf("faultgate %s\n", FG_VERSION);
			return 0;
		case '?':
		default:
			if (optopt) {
				bad[1] = (char)optopt;
				return usage_error(NULL, "unknown option '%s'",
						   bad);
			}
			return usage_error(NULL, "unknown option '%s'",
					   argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error(NULL, "no command given (%s)",
				   "run, check, inspect, inject, recover, help");
	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0)
		return help_command(argc, argv);
	cmd = find_command(argv[0]);
	if (!cmd)
		return usage_error(NULL, "unknown command '%s'", argv[0]);
	if (!cmd->run)
		return not_available(cmd->name);
	r = parse_command_argv(cmd, argc, argv);
	if (r > 0)
		*ret_cmd = cmd;
	return r;
}

int main(int argc, char **argv)
{
	const struct command *cmd = NULL;
	const char *env = secure_getenv("FG_LOG");
	int r;

	if (env && *env && fg_log_setup(env) < 0) {
		usage_error(NULL,
			    "invalid FG_LOG '%s' (error, warn, info, debug)",
			    env);
		return EXIT_USAGE;
	}
	r = parse_argv(argc, argv, &cmd);
	if (r <= 0)
		return r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
	return cmd->run();
}
