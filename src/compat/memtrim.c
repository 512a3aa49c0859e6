/*
 * memtrim.c - give freed heap back to the system. glibc keeps the memory
 * of freed small blocks in its arenas (per thread) for reuse, so a server
 * whose thousands of connections closed stays at its peak size until
 * malloc_trim(0) returns the free pages. Other C libraries: a no-op.
 */
#include "compat/memtrim.h"

#include <stdlib.h>	/* defines __GLIBC__ on glibc */

#if defined(__GLIBC__)
#include <malloc.h>

void
pkid_mem_trim(void)
{
	(void)malloc_trim(0);
}

#else

void
pkid_mem_trim(void)
{
}

#endif
