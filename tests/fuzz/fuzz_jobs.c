/*
 * libFuzzer target for job configs: the same parser reads standalone job
 * files and the resolved entities built from the backend's answers, so
 * arbitrary bytes must never crash it, leak or loop.  Every job is also
 * parked and unparked (job_park_json), which must give back JSON of the
 * same fingerprint.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jobgroup.h"
#include "jobs.h"
#include "jsonx.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *protocols[] = {"ping", "snmp", "netflow", "api"};
	static const int windows[] = {60, 900, 3600, 14400, 86400};
	char err[BOT_ERRLEN];
	struct job_update u;
	size_t i;

	log_init("fuzz", LOG_LEVEL_NONE);
	for (i = 0; i < sizeof(protocols) / sizeof(protocols[0]); i++) {
		job_update_init(&u);
		/* NetFlow's way: sensors without intervals, per-account jobs */
		if (jobs_load_text((const char *)data, size, protocols[i],
		        i == 2 ? JOBS_SENSOR_INTERVAL_OPTIONAL : 0, &u, err,
		        sizeof(err)) == 0) {
			size_t k;

			for (k = 0; k < u.n_jobs; k++) {
				char why[BOT_ERRLEN];
				double d;

				unsigned char fp[JOB_FP_LEN];

				if (jsonx_number(u.jobs[k]->credential,
				        "n_packets", 3, 1, 1000, JSONX_WHOLE,
				        &d, why, sizeof(why)) == -1)
					why[0] = '\0'; /* only exercised */
				if (i == 2)
					continue; /* jobgroup reads the JSON */
				memcpy(fp, u.jobs[k]->fingerprint, JOB_FP_LEN);
				job_park_json(u.jobs[k]);
				if (job_unpark_json(u.jobs[k]) != 0)
					abort();
				job_fingerprint(u.jobs[k]);
				if (memcmp(fp, u.jobs[k]->fingerprint,
				        JOB_FP_LEN) != 0)
					abort();
			}
		}
		if (i == 2)
			jobgroup_by_account(&u, windows, 5);
		job_update_release(&u);
	}
	return 0;
}
