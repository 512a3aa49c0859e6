/*
 * memtrim.h - return freed heap memory to the system (memtrim.c).
 */
#ifndef PKID_COMPAT_MEMTRIM_H
#define PKID_COMPAT_MEMTRIM_H

/* Release free heap pages to the system; may take a few ms. */
void pkid_mem_trim(void);

#endif
