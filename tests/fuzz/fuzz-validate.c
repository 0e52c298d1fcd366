/* SPDX-License-Identifier: GPL-3.0-or-later */
/* Every validator on the same arbitrary string: each accepts, or refuses
 * with a non-empty message that fits its buffer. */
#include "fuzz.h"
#include "validate.h"

static char msg[256];

static void verdict(int r)
{
    if (r < 0 && (!msg[0] || strnlen(msg, sizeof(msg)) == sizeof(msg))) {
        abort();
    }
    msg[0] = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    uint32_t a, b;
    uint64_t n;
    long t;
    verdict(validate_vmid(s, &a, msg, sizeof(msg)));
    verdict(validate_vmid_range(s, &a, &b, msg, sizeof(msg)));
    verdict(validate_dns_name(s, msg, sizeof(msg)));
    verdict(validate_storage_id(s, msg, sizeof(msg)));
    verdict(validate_pool_id(s, msg, sizeof(msg)));
    verdict(validate_node_name(s, msg, sizeof(msg)));
    verdict(validate_snapshot_name(s, msg, sizeof(msg)));
    verdict(validate_format(s, msg, sizeof(msg)));
    verdict(validate_drive(s, msg, sizeof(msg)));
    verdict(validate_tag(s, msg, sizeof(msg)));
    verdict(validate_bwlimit(s, &n, msg, sizeof(msg)));
    verdict(validate_timeout("--x", s, &t, msg, sizeof(msg)));
    verdict(validate_description(s, msg, sizeof(msg)));
    verdict(validate_number("--x", s, 1, 1000, &n, msg, sizeof(msg)));
    verdict(validate_absolute_path(s, msg, sizeof(msg)));
    verdict(validate_file_name(s, msg, sizeof(msg)));
    verdict(validate_storage_type(s, msg, sizeof(msg)));
    free(s);
    return 0;
}
