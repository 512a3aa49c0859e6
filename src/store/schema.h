/*
 * schema.h - the store's schema as ordered migration steps. Step i brings
 * the schema from version i to i+1. Plain SQL that PostgreSQL also takes
 * (BLOB becomes bytea there). Never edit a released step: add one.
 */
#ifndef PKID_STORE_SCHEMA_H
#define PKID_STORE_SCHEMA_H

#include <stddef.h>

extern const char *const pkid_schema_steps[];
extern const size_t pkid_schema_count;

#endif
