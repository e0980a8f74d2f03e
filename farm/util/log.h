/* log.h — one-line diagnostics on stderr, prefixed with the program role.
 * Log once, where an error leaves our code. */
#ifndef EVO_LOG_H
#define EVO_LOG_H

#include <stdarg.h>

enum evo_log_level { EVO_LOG_ERROR = 0, EVO_LOG_WARN = 1, EVO_LOG_INFO = 2, EVO_LOG_DEBUG = 3 };

/* Set the prefix printed before each message ("evo-farm", "evo-farm worker 3").
 * The string is copied. */
void evo_log_set_prefix(const char *prefix);

/* Messages above this level are not printed. Default: EVO_LOG_WARN, or the
 * value of EVO_FARM_LOG (error, warn, info, debug) when evo_log_init() ran. */
void evo_log_set_level(enum evo_log_level level);
void evo_log_init(void);
int evo_log_enabled(enum evo_log_level level);

void evo_log(enum evo_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define evo_error(...) evo_log(EVO_LOG_ERROR, __VA_ARGS__)
#define evo_warn(...)  evo_log(EVO_LOG_WARN, __VA_ARGS__)
#define evo_info(...)  evo_log(EVO_LOG_INFO, __VA_ARGS__)
#define evo_debug(...) evo_log(EVO_LOG_DEBUG, __VA_ARGS__)

#endif
