/* slow-epoll-del.c - LD_PRELOAD shim for t/1003-relay-stop.bats: every
 * EPOLL_CTL_DEL waits 3 ms first. That widens the window between "is the
 * listen socket still in the epoll set?" and its removal, where
 * libmicrohttpd's MHD_quiesce_daemon() and its event loop race, so a relay
 * that quiesces aborts on most stops under load instead of on a rare one. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/epoll.h>
#include <time.h>

int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	static int (*real)(int, int, int, struct epoll_event *);
	struct timespec ts = { 0, 3 * 1000000 };

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "epoll_ctl");
	if (real == NULL)
		return -1;
	if (op == EPOLL_CTL_DEL)
		nanosleep(&ts, NULL);
	return real(epfd, op, fd, ev);
}
