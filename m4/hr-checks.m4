# hr-checks.m4: headroom's own configure checks.

# HR_REQUIRE_PKG(VARIABLE-PREFIX, MODULE, DEBIAN-PACKAGE)
# pkg-config check that fails with the Debian package to install.
AC_DEFUN([HR_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found through pkg-config ($$1_PKG_ERRORS).
On Debian 12 install it with: apt-get install --no-install-recommends $3])])
])

# HR_CHECK_C11: the compiler must accept C11.
AC_DEFUN([HR_CHECK_C11], [
  AC_MSG_CHECKING([whether $CC accepts -std=c11])
  save_CFLAGS=$CFLAGS; CFLAGS="$CFLAGS -std=c11"
  AC_COMPILE_IFELSE([AC_LANG_SOURCE([[_Static_assert(1, "c11"); int main(void) { return 0; }]])],
    [AC_MSG_RESULT([yes])],
    [AC_MSG_RESULT([no]); AC_MSG_ERROR([a C11 compiler is needed: apt-get install gcc])])
  CFLAGS=$save_CFLAGS
  CFLAGS="-std=c11 $CFLAGS"
])

# AX_PTHREAD_SIMPLE: POSIX threads on glibc.
AC_DEFUN([AX_PTHREAD_SIMPLE], [
  AC_CHECK_HEADER([pthread.h], [], [AC_MSG_ERROR([pthread.h missing: apt-get install libc6-dev])])
  PTHREAD_LIBS="-pthread"
  AC_SUBST([PTHREAD_LIBS])
])
