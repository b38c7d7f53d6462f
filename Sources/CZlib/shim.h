// The system zlib (https://zlib.net), for compressing stored resource bodies
// (Sources/StorageSQLite/BodyCodec.swift). Debian/Ubuntu: zlib1g-dev.
#include <zlib.h>
