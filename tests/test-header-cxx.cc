// SPDX-License-Identifier: MIT
// libmemfd.h from C++: it compiles without warnings and links unmangled.
#include <libmemfd.h>

int main()
{
	struct mfd *m = nullptr;

	if (mfd_new(&m, "c++", MFD_CLOEXEC) < 0)
		return 1;
	void *p = nullptr;
	int ok = mfd_set_size(m, 4096) == 0 && mfd_size(m) == 4096 &&
		 mfd_add_seals(m, F_SEAL_SHRINK | F_SEAL_GROW) == 0 &&
		 mfd_map(m, 0, 4096, PROT_READ, LIBMEMFD_MAP_GUARD, &p) == 0 &&
		 mfd_map_faulted(p) == 0 && mfd_unmap(p, 4096) == 0 &&
		 mfd_handle_sigbus(0, nullptr, nullptr) == 0;
	mfd_free(m);
	return ok ? 0 : 1;
}
