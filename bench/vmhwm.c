/* SPDX-License-Identifier: GPL-3.0-or-later */
/* vmhwm.so, an LD_PRELOAD shim for `make bench`: at exit, appends the
 * process's own peak RSS ("VmHWM: N kB" of /proc/self/status) to the file
 * named by $BENCH_VMHWM_FILE. /usr/bin/time -v cannot give this for pvetmpl:
 * the kernel's ru_maxrss of a child includes its waited-for children, and
 * pvetmpl's children are (simulated) qm and pvesm in Perl. pvetmpl starts
 * its children with a clean environment, so the shim never reaches them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((destructor)) static void vmhwm_report(void)
{
    const char *out = getenv("BENCH_VMHWM_FILE");
    if (!out || !*out) {
        return;
    }
    FILE *in = fopen("/proc/self/status", "re");
    if (!in) {
        return;
    }
    char line[256];
    while (fgets(line, sizeof(line), in)) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            FILE *o = fopen(out, "ae");
            if (o) {
                fprintf(o, "%ld\n", strtol(line + 6, NULL, 10));
                fclose(o);
            }
            break;
        }
    }
    fclose(in);
}
