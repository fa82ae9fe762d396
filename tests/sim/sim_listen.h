/* sim_listen.h - the simulator's listening socket and the port file that tells a
 * test harness where it is. */
#ifndef SIM_LISTEN_H
#define SIM_LISTEN_H

#include <stddef.h>

/* Split "HOST:PORT" ("[v6addr]:PORT" for IPv6) into host and port; 0 or -EINVAL. */
int sim_listen_parse(const char *spec, char *host, size_t hostlen, unsigned int *port);

/* Bind and listen on host:port (port 0 = a free port). *fd is the socket and
 * *bound_port the actual port. On failure a negative errno and a line in err. */
int sim_listen_open(const char *host, unsigned int port, int *fd, unsigned int *bound_port,
                    char *err, size_t errlen);

/* Write "PORT\n" to path atomically (path.tmp, then rename), so that a reader never
 * sees a half-written number. 0 or a negative errno. */
int sim_listen_write_port(const char *path, unsigned int port);

#endif
