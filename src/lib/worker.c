/*
 * worker.c - the background thread that drains the durable job table (async turns, and
 * jobs left pending by a crash). It takes the handle's lock per job, so it interleaves
 * with API calls instead of starving them, and sleeps on a condition variable between
 * bursts; a poll interval catches jobs queued by other processes sharing the store.
 */
#include <errno.h>
#include <time.h>

#include "lib/api_int.h"

#define POLL_MS 1000

static void *worker_main(void *arg)
{
    engram *db = arg;

    pthread_mutex_lock(&db->mu);
    while (!db->worker_stop) {
        int rc = eg_job_run_one(db);
        if (rc == ENGRAM_OK) {
            /* Let waiting API calls in between jobs. */
            pthread_mutex_unlock(&db->mu);
            pthread_mutex_lock(&db->mu);
            continue;
        }
        {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += POLL_MS / 1000;
            pthread_cond_timedwait(&db->worker_cv, &db->mu, &ts);
        }
    }
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

int eg_worker_start(engram *db)
{
    if (pthread_create(&db->worker, NULL, worker_main, db) != 0)
        return eg_err(db, ENGRAM_ERROR, NULL, "cannot start the job worker thread");
    db->worker_running = 1;
    return ENGRAM_OK;
}

void eg_worker_stop(engram *db)
{
    if (!db->worker_running)
        return;
    pthread_mutex_lock(&db->mu);
    db->worker_stop = 1;
    pthread_cond_signal(&db->worker_cv);
    pthread_mutex_unlock(&db->mu);
    pthread_join(db->worker, NULL);
    db->worker_running = 0;
}

/* Called with db->mu held. */
void eg_worker_wake(engram *db)
{
    if (db->worker_running)
        pthread_cond_signal(&db->worker_cv);
}
