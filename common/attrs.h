/*
 * Compiler attributes shared by every module: unused-result warnings on
 * fallible functions and printf-format checking on logging helpers.
 */
#ifndef BOT_ATTRS_H
#define BOT_ATTRS_H

#define BOT_WUR            __attribute__((warn_unused_result))
#define BOT_PRINTF(fi, ai) __attribute__((format(printf, fi, ai)))
#define BOT_NORETURN       __attribute__((noreturn))

/* Size of caller-provided error buffers. */
#define BOT_ERRLEN 256

#endif
