#ifndef VETO_CHIREDIS_SHIM_H
#define VETO_CHIREDIS_SHIM_H

// hiredis 0.14.1 (Debian 12). Only its reply parser is used: `redisReader`, behind RESPParser
// (Sources/VetoRedis/Protocol). Commands are encoded in Swift (RedisCommand); hiredis.h stays
// included for `redisFormatCommandArgv`, the reference that RedisCommandEncodingTests checks the
// Swift encoder against byte for byte. All I/O is SwiftNIO's.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#include <stdlib.h>

// `redisReader.errstr` is a char[128] that Swift imports as a 128-tuple: hand out a pointer instead.
static inline const char *veto_hiredis_reader_errstr(const redisReader *reader) {
    return reader->errstr;
}

// Bytes fed to the reader that it has not consumed yet. hiredis consumes a reply's bytes as it
// builds its elements, so this is not the size of the reply being assembled; RESPParser reads it
// after each complete reply, as the first bytes of the next one, and bounds every reply itself.
static inline size_t veto_hiredis_reader_buffered(const redisReader *reader) {
    return reader->len - reader->pos;
}

// An array header declares its length before any element arrives, and hiredis 0.14 callocs that
// many element slots at once (it has no `maxelements`): "*1777777777\r\n" from a hostile or broken
// server asks for 14 GB. The reader below refuses arrays longer than `maxElements`; hiredis then
// fails the stream with "Out of memory", which the client treats as a protocol violation.
typedef struct {
    redisReplyObjectFunctions functions;
    void *(*defaultCreateArray)(const redisReadTask *task, int elements);
    int maxElements;
} veto_hiredis_reader_functions;

static inline void *veto_hiredis_create_array(const redisReadTask *task, int elements) {
    const veto_hiredis_reader_functions *own = (const veto_hiredis_reader_functions *)task->privdata;
    if (elements < 0 || elements > own->maxElements) return NULL;
    return own->defaultCreateArray(task, elements);
}

// A reader with hiredis's default reply objects, except for the bound on array lengths.
// Free it with veto_hiredis_reader_free.
static inline redisReader *veto_hiredis_reader_create(int maxElements) {
    redisReader *reader = redisReaderCreate();
    if (reader == NULL) return NULL;
    veto_hiredis_reader_functions *own = (veto_hiredis_reader_functions *)malloc(sizeof *own);
    if (own == NULL) {
        redisReaderFree(reader);
        return NULL;
    }
    own->functions = *reader->fn;
    own->defaultCreateArray = reader->fn->createArray;
    own->functions.createArray = veto_hiredis_create_array;
    own->maxElements = maxElements;
    reader->fn = &own->functions;
    reader->privdata = own;  // hiredis copies it into every read task
    return reader;
}

static inline void veto_hiredis_reader_free(redisReader *reader) {
    void *own = reader->privdata;
    redisReaderFree(reader);
    free(own);
}

#endif
