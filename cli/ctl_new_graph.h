/*
 * ctl_new_graph.h - `sofiia-ctl new-graph NAME [DIR]`: write a graph to
 * start from (sdk/starter/: the graph, its Makefile, its unit test on the
 * SDK's test kit and a router-sim scenario), built into sofiia-ctl so it
 * needs nothing installed beside it.
 */
#ifndef SV_CTL_NEW_GRAPH_H
#define SV_CTL_NEW_GRAPH_H

/* One file of the starter: its name and text, with @GRAPH@ (the graph's
 * name) and @GRAPH_UPPER@ (the same in upper case) to replace, and GRAPH in
 * the file's name. */
typedef struct sv_ctl_file {
    const char *name;
    const char *text;
} sv_ctl_file;

/* argv: NAME [DIR] (the arguments after the command).  0 when written, 2
 * for a bad command line, 1 when a file could not be written; one line on
 * stderr says why. */
int sv_ctl_new_graph(int argc, char **argv);

#endif
