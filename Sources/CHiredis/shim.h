#ifndef VETO_CHIREDIS_SHIM_H
#define VETO_CHIREDIS_SHIM_H

// hiredis 0.14.1 (Debian 12). Only the protocol half is used: `redisReader` parses RESP and
// `redisFormatCommandArgv` encodes commands. All I/O is SwiftNIO's.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>

// `redisReader.errstr` is a char[128] that Swift imports as a 128-tuple: hand out a pointer instead.
static inline const char *veto_hiredis_reader_errstr(const redisReader *reader) {
    return reader->errstr;
}

// Bytes fed to the reader but not yet consumed as replies: lets the caller bound the buffer.
static inline size_t veto_hiredis_reader_buffered(const redisReader *reader) {
    return reader->len - reader->pos;
}

#endif
