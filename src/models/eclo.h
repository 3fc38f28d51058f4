/*
 * The ECLO preset (seed 003): the severity of a Daegu traffic accident,
 * ECLO = 10 x deaths + 5 x serious injuries + 3 x light injuries + 1 x
 * reported injuries, predicted on that real scale from eleven fields of
 * the accident.
 *
 *   weather        기상상태   맑음, 흐림, 비, 눈, 안개, 기타
 *   road_surface   노면상태   건조, 젖음/습기, ...
 *   road_type      도로형태   "교차로 - 교차로안", ...
 *   accident_type  사고유형   차대사람, 차대차, 차량단독
 *   time_period    시간대     심야 (22-5시), 출근시간대 (7-9), 퇴근시간대 (17-19),
 *                             일반시간대 (the rest); derived from accident_hour
 *                             when absent
 *   district       시군구     "대구광역시 수성구 상동", ...
 *   day_of_week    요일       월요일 ... 일요일
 *   accident_hour 0-23, accident_year, accident_month 1-12, accident_day 1-31
 *
 * The text fields take the values the model was trained on (eclo_schema
 * lists them); anything else is refused with the allowed values, not
 * guessed at.  The model is any sheaf model whose features are these
 * eleven names (models/eclo/ in the repository ships one, trained by
 * `make eclo-model`).
 *
 * Interpretation, on the ECLO scale, whose steps are the injury weights:
 *   경미      below 3   (less than one light injury's worth)
 *   일반      3 to 5    (a light injury's worth, less than a serious one)
 *   심각      5 to 10   (a serious injury's worth, less than a death)
 *   매우 심각  10 and up (a death's worth)
 */
#ifndef SHEAF_MODELS_ECLO_H
#define SHEAF_MODELS_ECLO_H

#include <jansson.h>

#include "base/error.h"
#include "models/model.h"

#define ECLO_FIELDS 11

/* The thresholds above. */
#define ECLO_GENERAL 3.0
#define ECLO_SERIOUS 5.0
#define ECLO_GRAVE 10.0

struct eclo;

/* Wraps model m (taken: eclo_free frees it) named version.  NULL with e
 * set when m is not a regression on the eleven fields. */
struct eclo *eclo_new(struct model *m, const char *version, struct error *e);
void eclo_free(struct eclo *p);   /* NULL is fine */

const char *eclo_version(const struct eclo *p);
struct model *eclo_model(const struct eclo *p);

/* {"fields":[{"name","label","type","required","allowed"|"minimum"/"maximum",
 *  "description"}], "interpretation":[{"label","from","to","detail"}],
 *  "model_version"} (a new reference). */
json_t *eclo_schema(const struct eclo *p);

/*
 * Checks one accident (an object of the fields).  0 with *row a new object
 * the model predicts from; -1 with *problems a new array of {"field",
 * "message", "allowed"?} -- every problem, not only the first.
 */
int eclo_check(const struct eclo *p, const json_t *accident, json_t **row, json_t **problems);

/* The label and detail sentence of an ECLO value. */
void eclo_interpret(double eclo, const char **label, const char **detail);

/* The time period (시간대) of an hour, 0-23. */
const char *eclo_time_period(int hour);

/*
 * Predicts accidents[from..to) and appends one item each to out:
 * {"index" (from 1), "eclo", "interpretation", "detail", "error"}, where
 * an accident that fails its check has eclo null and error saying why.
 * -1 with e set only when prediction itself failed.
 */
int eclo_predict_items(const struct eclo *p, const json_t *accidents, size_t from, size_t to,
		       json_t *out, struct error *e);

#endif
