// SPDX-License-Identifier: MIT
// libmemfd.h from C++: it compiles without warnings and links unmangled.
#include <libmemfd.h>

int main()
{
	struct mfd *m = nullptr;

	if (mfd_new(&m, "c++", MFD_CLOEXEC) < 0)
		return 1;
	int ok = mfd_set_size(m, 4096) == 0 && mfd_size(m) == 4096 &&
		 mfd_add_seals(m, F_SEAL_SHRINK | F_SEAL_GROW) == 0;
	mfd_free(m);
	return ok ? 0 : 1;
}
