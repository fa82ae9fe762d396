/*
 * fuzz_config.c - the configuration file (core/config.c's
 * sv_config_load_file, every setting's parser through it, and the API key
 * list of auth.c), then what --check-config and SIGHUP make of the result
 * (config_show.c).  The file is the input, read through a memfd.
 * Invariants: a refusal says why in one line naming the file; an accepted
 * file gives every setting a value to show.
 */
#include "fuzz.h"
#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int sv_fuzz_config(const uint8_t *data, size_t size)
{
    char path[64], err[1024], value[1024];
    sv_config cfg, dflt;
    int fd = memfd_create("sv-fuzz-config", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size || sv_config_defaults(&cfg) < 0) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    err[0] = '\0';
    int rc = sv_config_load_file(&cfg, path, err, sizeof err);
    if (rc < 0) {
        SV_FUZZ_CHECK(strstr(err, path) && !strchr(err, '\n'),
                      "a refused file is one line naming the file");
    } else {
        const char *const *keys = sv_config_keys();
        for (int i = 0; keys[i]; i++) {
            SV_FUZZ_CHECK(sv_config_format(&cfg, keys[i], 1, value, sizeof value) == 0,
                          "every setting has a value to show");
            SV_FUZZ_CHECK(sv_config_format(&cfg, keys[i], 0, value, sizeof value) == 0,
                          "every setting has a value to compare");
        }
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            sv_config_print(&cfg, null);
            fclose(null);
        }
        if (sv_config_defaults(&dflt) == 0) {
            json_object *changed = json_object_new_array(), *restart = json_object_new_array();
            sv_config_reload(&dflt, &cfg, changed, restart);
            json_object_put(changed);
            json_object_put(restart);
            sv_config_free(&dflt);
        }
    }
    sv_config_free(&cfg);
    close(fd);
    return 0;
}

SV_FUZZ_MAIN(sv_fuzz_config)
