/* SPDX-License-Identifier: MIT */
/* libmemfd.h in strict C89: no // comments, long long, inline or mixed
 * declarations may creep into it. The constants must still fit the types
 * the kernel gives them. */
#include <libmemfd.h>

/* Every prototype is usable: a table of the functions, as a plugin loader
 * or a test double would keep one. */
static int (*const creators[])(struct mfd **, const char *, unsigned int) = { mfd_new };
static int (*const new_sealed)(struct mfd **, const char *, const void *, size_t) = mfd_new_sealed;
static int (*const mapper)(struct mfd *, uint64_t, size_t, int, unsigned int, void **) = mfd_map;
static int (*const sigbus_handler)(int, void *, void *) = mfd_handle_sigbus;
static int (*const faulted)(const void *) = mfd_map_faulted;

int main(void)
{
	unsigned int huge = MFD_HUGETLB | MFD_HUGE_16GB;

	if (!creators[0] || !new_sealed || !mapper || !sigbus_handler || !faulted)
		return 1;
	/* The largest size code still fits an unsigned int. */
	return !((huge >> MFD_HUGE_SHIFT & MFD_HUGE_MASK) == 34 && (huge & MFD_HUGETLB) &&
		 (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
		  F_SEAL_FUTURE_WRITE | F_SEAL_EXEC) == 0x3f &&
		 LIBMEMFD_NAME_MAX == 249 && sizeof(LIBMEMFD_DEFAULT_NAME) > 1 &&
		 (LIBMEMFD_MAP_GUARD & LIBMEMFD_MAP_POPULATE) == 0);
}
