/* SPDX-License-Identifier: MIT */
/* One runner for every suite; each test runs in its own forked process. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "syscall-filter.h"
#include "test-common.h"

#define EXIT_SKIP 77

int main(void)
{
	SRunner *sr;

	/* The seed's tests return early on kernels without memfd_create. */
	if (!mfd_kernel_supported()) {
		fprintf(stderr, "SKIP: this kernel has no memfd_create\n");
		return EXIT_SKIP;
	}

	if (emulate_old_kernel_from_environment() < 0) {
		fprintf(stderr, "LIBMEMFD_TEST_OLD_KERNEL: pre-6.3 or pre-5.1\n");
		return EXIT_FAILURE;
	}

	sr = srunner_create(lifecycle_suite());
	srunner_add_suite(sr, size_suite());
	srunner_add_suite(sr, seals_suite());
	srunner_add_suite(sr, map_suite());
	srunner_add_suite(sr, io_suite());
	srunner_add_suite(sr, share_suite());
	srunner_add_suite(sr, identify_suite());
	srunner_add_suite(sr, message_suite());
	srunner_add_suite(sr, faults_suite());
	srunner_add_suite(sr, model_suite());
	srunner_add_suite(sr, mirror_suite());
	srunner_add_suite(sr, ring_suite());
	srunner_add_suite(sr, ring_hostile_suite());
	srunner_add_suite(sr, ring_model_suite());
	srunner_add_suite(sr, ring_fence_suite());
	srunner_add_suite(sr, guard_suite());
	return run_suites(sr);
}
