/* SPDX-License-Identifier: MIT */
/* libmemfd.h must stand alone in strict C99 (no _GNU_SOURCE, so the C
 * library defines none of the kernel's constants), and the kernel's own
 * headers included after it must redefine nothing. */
#include <libmemfd.h>
#include <linux/fcntl.h>
#include <linux/memfd.h>

int main(void)
{
	/* The values are the kernel's ABI. */
	return !(F_SEAL_SEAL == 0x1 && F_SEAL_SHRINK == 0x2 && F_SEAL_GROW == 0x4 &&
		 F_SEAL_WRITE == 0x8 && F_SEAL_FUTURE_WRITE == 0x10 &&
		 F_SEAL_EXEC == 0x20 && MFD_CLOEXEC == 1 && MFD_ALLOW_SEALING == 2 &&
		 MFD_HUGETLB == 4 && MFD_NOEXEC_SEAL == 8 && MFD_EXEC == 0x10 &&
		 MFD_HUGE_2MB == 21u << 26 && MFD_HUGE_1GB == 30u << 26 &&
		 MFD_HUGE_MASK == 0x3f && MFD_HUGE_SHIFT == 26);
}
