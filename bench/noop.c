/* SPDX-License-Identifier: GPL-3.0-or-later */
/* noop: a process that does nothing. Built twice by `make bench`: plain (the
 * cost of starting any process) and linked against pvetmpl's libraries (what
 * loading libconfuse, libsystemd and json-c adds before main runs). */
int main(void)
{
    return 0;
}
