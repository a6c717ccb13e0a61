/*
 * Terminal handling for the live views; see term.h. Raw keys are termios
 * with ICANON and ECHO off but ISIG on, so Ctrl-C stays a SIGINT that the
 * views turn into a clean exit. Not a curses: it writes a handful of VT100
 * sequences that every terminal cbq meets understands.
 */
#include "term.h"
#include "util/clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define ENTER_SCREEN "\x1b[?1049h\x1b[?25l"
#define LEAVE_SCREEN "\x1b[?25h\x1b[?1049l"

/* Signals that end a view, and signals that end cbq whatever it does. */
static const int end_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
enum { N_END = 4, N_CRASH = 5 };

/*
 * Process-wide because signal handlers must reach it (see term_enter).
 * Written only outside handlers, except the two sig_atomic_t flags.
 */
static struct {
	bool active;
	bool screen, keys; /* what is in effect */
	bool atexit_done;
	struct termios saved;
	struct sigaction old_end[N_END], old_crash[N_CRASH], old_winch, old_tstp;
} term;
static volatile sig_atomic_t caught_signal;
static volatile sig_atomic_t resized_flag;

/* Async-signal-safe: write(2) and tcsetattr(3) only. */
static void restore_tty(void)
{
	if (term.keys)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &term.saved);
	if (term.screen && write(STDOUT_FILENO, LEAVE_SCREEN, sizeof(LEAVE_SCREEN) - 1) < 0)
		return;
}

static void apply_tty(void)
{
	if (term.keys) {
		struct termios raw = term.saved;

		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	if (term.screen && write(STDOUT_FILENO, ENTER_SCREEN, sizeof(ENTER_SCREEN) - 1) < 0)
		return;
}

static void on_end(int sig)
{
	if (!caught_signal)
		caught_signal = sig;
}

static void on_winch(int sig)
{
	(void)sig;
	resized_flag = 1;
}

/* Ctrl-Z: give the shell its screen back, stop, and take it again on
 * SIGCONT (execution resumes after raise). */
static void on_tstp(int sig)
{
	int saved_errno = errno;
	sigset_t set;

	restore_tty();
	signal(SIGTSTP, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGTSTP);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(SIGTSTP);
	/* continued */
	signal(SIGTSTP, on_tstp);
	apply_tty();
	resized_flag = 1;
	(void)sig;
	errno = saved_errno;
}

/* A crash: the terminal first, then die of the signal as before. */
static void on_crash(int sig)
{
	restore_tty();
	signal(sig, SIG_DFL);
	raise(sig);
}

bool term_size(int fd, int *cols, int *rows)
{
	struct winsize ws;

	if (!isatty(fd))
		return false;
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
	} else {
		*cols = 80;
		*rows = 24;
	}
	return true;
}

static void install(int sig, void (*fn)(int), int flags, struct sigaction *old)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: poll and sleep must return so the loop can look */
	sa.sa_flags = flags;
	sigaction(sig, &sa, old);
}

void term_enter(unsigned mode)
{
	if (term.active)
		return;
	caught_signal = 0;
	resized_flag = 0;
	term.screen = (mode & TERM_SCREEN) && isatty(STDOUT_FILENO);
	term.keys = (mode & TERM_KEYS) && isatty(STDIN_FILENO) &&
		    tcgetattr(STDIN_FILENO, &term.saved) == 0;
	for (int i = 0; i < N_END; i++)
		install(end_signals[i], on_end, 0, &term.old_end[i]);
	install(SIGWINCH, on_winch, SA_RESTART, &term.old_winch);
	if (term.screen || term.keys) {
		for (int i = 0; i < N_CRASH; i++)
			install(crash_signals[i], on_crash, SA_RESETHAND, &term.old_crash[i]);
		install(SIGTSTP, on_tstp, SA_RESTART, &term.old_tstp);
	}
	term.active = true;
	if (!term.atexit_done && atexit(term_leave) == 0)
		term.atexit_done = true;
	fflush(stdout);
	apply_tty();
}

void term_leave(void)
{
	if (!term.active)
		return;
	fflush(stdout);
	restore_tty();
	for (int i = 0; i < N_END; i++)
		sigaction(end_signals[i], &term.old_end[i], NULL);
	sigaction(SIGWINCH, &term.old_winch, NULL);
	if (term.screen || term.keys) {
		for (int i = 0; i < N_CRASH; i++)
			sigaction(crash_signals[i], &term.old_crash[i], NULL);
		sigaction(SIGTSTP, &term.old_tstp, NULL);
	}
	term.active = term.screen = term.keys = false;
}

int term_signal(void)
{
	return caught_signal;
}

bool term_resized(void)
{
	bool r = resized_flag != 0;

	resized_flag = 0;
	return r;
}

int term_wait_key(int timeout_ms)
{
	long long until = (cbq_clock_mono_us() / 1000) + (timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		long long left = until - (cbq_clock_mono_us() / 1000);
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
		int n;

		if (caught_signal || resized_flag)
			return -1;
		if (left <= 0)
			return 0;
		n = poll(&p, term.keys ? 1 : 0, (int)left);
		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0) {
			unsigned char c;
			ssize_t got = read(STDIN_FILENO, &c, 1);

			if (got == 1)
				return c;
			if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
				term.keys = false; /* stdin ended: no more keys, still the time */
		}
	}
}

size_t term_fit(const char *s, size_t cols)
{
	size_t w = 0, i = 0;

	for (; s[i]; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++w > cols)
			break;
	}
	return i;
}

void term_status(FILE *f, const char *text, int cols)
{
	size_t room = cols > 1 ? (size_t)cols - 1 : 79;

	fputc('\r', f);
	fwrite(text, 1, term_fit(text, room), f);
	fputs("\x1b[K", f);
	fflush(f);
}

void term_frame(const char *text, int cols, int rows)
{
	const char *p = text;

	fputs("\x1b[H", stdout);
	for (int row = 0; row < rows && *p; row++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = strndup(p, len);

		if (!line)
			abort();
		fwrite(line, 1, term_fit(line, cols > 0 ? (size_t)cols : 80), stdout);
		free(line);
		fputs("\x1b[K", stdout);
		p = nl ? nl + 1 : p + len;
		/* a newline on the last row would scroll the screen */
		if (row + 1 < rows && *p)
			fputs("\r\n", stdout);
	}
	fputs("\x1b[J", stdout);
	fflush(stdout);
}
