/*
 * replay.c - runs a libFuzzer target without libFuzzer: every file in the directories (or
 * the files) named on the command line goes through LLVMFuzzerTestOneInput once. CMake
 * links it with each fuzz/fuzz_*.c as <name>_replay and ctest runs it over
 * fuzz/corpus/<name>/, so every input that once crashed stays a regression test (SQLite's
 * fuzzcheck). Exit status: 0 when all inputs ran, 1 when an input could not be read.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are not corpus material; libFuzzer's default max_len is 4 KB. */
#define REPLAY_MAX (8 * 1024 * 1024)

static int run_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;
    int rc = 1;

    if (!fp) {
        fprintf(stderr, "replay: cannot open %s\n", path);
        return 1;
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (len = ftell(fp)) < 0 || len > REPLAY_MAX ||
        fseek(fp, 0, SEEK_SET) != 0)
        goto out;
    /* +1 so an empty file still gets a valid pointer */
    buf = malloc((size_t)len + 1);
    if (!buf || fread(buf, 1, (size_t)len, fp) != (size_t)len)
        goto out;
    LLVMFuzzerTestOneInput(buf, (size_t)len);
    rc = 0;
out:
    if (rc)
        fprintf(stderr, "replay: cannot read %s\n", path);
    free(buf);
    fclose(fp);
    return rc;
}

static int run_path(const char *path, int *count)
{
    struct stat st;
    DIR *d;
    struct dirent *de;
    int bad = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "replay: no such file or directory: %s\n", path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    d = opendir(path);
    if (!d) {
        fprintf(stderr, "replay: cannot list %s\n", path);
        return 1;
    }
    while ((de = readdir(d)) != NULL) {
        char child[4096];
        int n;
        if (de->d_name[0] == '.')
            continue;
        n = snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
        if (n < 0 || (size_t)n >= sizeof(child))
            continue;
        if (stat(child, &st) == 0 && S_ISREG(st.st_mode)) {
            (*count)++;
            bad |= run_file(child);
        }
    }
    closedir(d);
    return bad;
}

int main(int argc, char **argv)
{
    int i, bad = 0, count = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 1;
    }
    for (i = 1; i < argc; i++)
        bad |= run_path(argv[i], &count);
    printf("replay: %d inputs%s\n", count, bad ? ", some unreadable" : "");
    return bad;
}
