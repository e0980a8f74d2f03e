/* config_output.c — output.dir's job patterns (%j, %A, %a, %%), checked
 * when the file is read and expanded where a driver writes (see
 * config.h). A job array's elements would otherwise share one directory
 * and overwrite each other's result.json. */
#include <stdio.h>
#include <string.h>

#include "config.h"

int evo_output_dir_check(const char *dir, char *bad)
{
    for (const char *p = dir; *p; p++) {
        if (*p != '%')
            continue;
        if (p[1] != 'j' && p[1] != 'A' && p[1] != 'a' && p[1] != '%') {
            *bad = p[1] ? p[1] : ' '; /* a % at the end */
            return -1;
        }
        p++;
    }
    return 0;
}

/* Appends n bytes of s at *at; -1 when out is full. */
static int put(char *out, size_t size, size_t *at, const char *s, size_t n)
{
    if (*at + n >= size)
        return -1;
    memcpy(out + *at, s, n);
    *at += n;
    out[*at] = '\0';
    return 0;
}

int evo_output_dir_expand(const char *dir, const struct evo_job_names *job, char *out, size_t size)
{
    const char *local = "local";
    char pattern[strlen(dir) + 8];
    size_t at = 0;
    if (size == 0)
        return -1;
    out[0] = '\0';
    snprintf(pattern, sizeof pattern, "%s", dir);
    /* An array element whose directory names neither its element nor its
     * job gets one of its own below it. */
    if (job->array_task && !strstr(dir, "%a") && !strstr(dir, "%j")) {
        size_t n = strlen(pattern);
        while (n > 1 && pattern[n - 1] == '/')
            pattern[--n] = '\0';
        snprintf(pattern + n, sizeof pattern - n, "/%%A_%%a");
    }
    for (const char *p = pattern; *p; p++) {
        const char *value = NULL;
        if (*p == '%' && p[1]) {
            switch (p[1]) {
            case 'j':
                value = job->job ? job->job : local;
                break;
            case 'A':
                value = job->array_job ? job->array_job : job->job ? job->job : local;
                break;
            case 'a':
                value = job->array_task ? job->array_task : local;
                break;
            case '%':
                value = "%";
                break;
            }
        }
        if (value) {
            if (put(out, size, &at, value, strlen(value)) < 0)
                return -1;
            p++;
        } else if (put(out, size, &at, p, 1) < 0) {
            return -1;
        }
    }
    return 0;
}
