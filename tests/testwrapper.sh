#!/bin/sh
# testwrapper.sh: the LOG_COMPILER of `make check`. Runs a unit test under
# valgrind (leaks and memory errors fail the test) when valgrind is installed,
# the test is an ELF binary built without sanitizers, and HR_VALGRIND is not 0.
# Scripts (integration tests) run as they are.
set -u
test_prog=$1
shift
case "$test_prog" in
*.sh) exec sh "$test_prog" "$@" ;;
esac
if [ "${HR_VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null 2>&1 &&
   ! nm "$test_prog" 2>/dev/null | grep -q __asan_init; then
	exec valgrind --quiet --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
		--track-fds=no "$test_prog" "$@"
fi
exec "$test_prog" "$@"
