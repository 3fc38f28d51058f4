"""The ECLO preset (seed 003): POST /api/predict/eclo, GET
/api/predict/eclo/schema, POST /api/predict/eclo/batch, GET
/api/predict/batch/{id}/results, and the batch's job (GET/DELETE
/api/jobs/{id}) -- its queue bound, cancellation, and recovery after the
server is killed.

Expectations come from eclo_helpers: the TAAS records parsed here, the
documented thresholds, and the embedded model file evaluated by
python3-xgboost -- never from sheaf's own answers.
"""

import collections
import json
import math
import random
import threading
import time

import pytest

from conftest import SheafFactory, assert_recent, parse_rfc3339, sanitizer_reports
from datasets_helpers import upload_ready
from eclo_helpers import (FIELDS, INT_FIELDS, INT_RANGES, LABELS, MODEL_FILE, SEED_EXAMPLE,
                          TEXT_FIELDS, check_422, check_items, check_prediction, close,
                          known, label_of, reference, spread, taas_accidents, time_period,
                          wait_batch, wait_job)

PREDICT = "/api/predict/eclo"
ESRV_MAX_ROWS = 40000
BATCH = "/api/predict/eclo/batch"


def results_url(batch_id):
    return f"/api/predict/batch/{batch_id}/results"


@pytest.fixture(scope="module")
def esrv(tmp_path_factory):
    """One server for the module's simple tests, taking batches of up to
    40000 accidents (big enough to be caught running on any machine)."""
    f = SheafFactory(tmp_path_factory.mktemp("eclo"))
    srv = f.start(env={"SHEAF_MAX_BODY": "32M", "SHEAF_BATCH_MAX_ROWS": str(ESRV_MAX_ROWS)})
    yield srv
    f.finish()


@pytest.fixture(scope="module")
def ref():
    return reference()


@pytest.fixture(scope="module")
def known_accidents(ref):
    """Every TAAS accident whose text values the model knows (all of
    2007-2017, most of 2018), as (fields, real eclo, 사고일시)."""
    return [a for a in taas_accidents() if known(ref, a[0])]


def sample_accidents(known_accidents, n=22):
    """n real accidents over all the years, with deaths, every accident
    type and several weathers among them."""
    picks = [a[0] for a in spread(known_accidents, n - 6)]
    wanted = [lambda f, e: e >= 10, lambda f, e: e >= 20,
              lambda f, e: f["accident_type"] == "차량단독",
              lambda f, e: f["accident_type"] == "차대사람",
              lambda f, e: f["weather"] == "눈", lambda f, e: f["weather"] == "안개"]
    for want in wanted:
        picks.append(next(f for f, e, _ in known_accidents if want(f, e)))
    return [dict(p) for p in picks]


def without_period(fields):
    f = dict(fields)
    f.pop("time_period", None)
    return f


def predict(who, body, **kw):
    return who.post(PREDICT, json=body, **kw)


def eclo_of(who, body):
    r = predict(who, body)
    assert r.status_code == 200, (body, r.status_code, r.text[:1000])
    return check_prediction(r.json())


# --------------------------------------------------------------------------
# the schema and the model behind it


def test_schema_lists_the_models_categories_ranges_and_thresholds(esrv, ref):
    r = esrv.get("/api/predict/eclo/schema")
    assert r.status_code == 200, r.text
    s = r.json()
    assert [f["name"] for f in s["fields"]] == FIELDS, s["fields"]
    for f in s["fields"]:
        name = f["name"]
        assert f["required"] is (name != "time_period"), f
        assert isinstance(f.get("label"), str) and f["label"], f
        if name in TEXT_FIELDS:
            assert f["type"] == "string", f
            # the allowed values are exactly the model's training categories
            assert f["allowed"] == sorted(ref.categories[name]), (name, f["allowed"])
        else:
            assert f["type"] == "integer", f
            assert (f["minimum"], f["maximum"]) == INT_RANGES[name], f
            assert "allowed" not in f, f
    levels = [(l["label"], l["from"], l["to"]) for l in s["interpretation"]]
    assert levels == [("경미", 0, 3), ("일반", 3, 5), ("심각", 5, 10), ("매우 심각", 10, None)], levels
    assert all(isinstance(l["detail"], str) and l["detail"] for l in s["interpretation"])
    # the built-in model is models/eclo/eclo.model (the version names its bytes),
    # so the reference below evaluates the very model the server uses
    assert s["model_version"] == "eclo-" + ref.sha256[:12], (s["model_version"], ref.sha256)


def test_the_models_categories_are_the_training_values(ref, known_accidents):
    """Independent of the server: the header's categories are exactly the
    values the 2007-2017 TAAS records have (what the schema must offer)."""
    seen = collections.defaultdict(set)
    for f, _, _ in taas_accidents():
        if f["accident_year"] < 2018:
            for k in TEXT_FIELDS:
                seen[k].add(f[k])
    for k in TEXT_FIELDS:
        assert seen[k] == set(ref.categories[k]), k
    assert set(ref.categories["accident_type"]) == {"차대사람", "차대차", "차량단독"}
    assert set(ref.categories["time_period"]) == {"심야", "출근시간대", "퇴근시간대", "일반시간대"}


def test_predictions_agree_with_xgboost_on_real_accidents(esrv, ref, known_accidents):
    accidents = sample_accidents(known_accidents)
    expected = ref.predict(accidents)
    version = esrv.get("/api/predict/eclo/schema").json()["model_version"]
    ids, answers = set(), []
    for acc, want in zip(accidents, expected):
        r = predict(esrv, acc)
        assert r.status_code == 200, (acc, r.status_code, r.text[:1000])
        body = r.json()
        got = check_prediction(body)
        answers.append(got)
        assert close(got, want), f"{acc}: sheaf {got}, xgboost {want}"
        assert body["model_version"] == version, body
        assert body["prediction_id"].startswith("pred_") and body["prediction_id"] not in ids
        ids.add(body["prediction_id"])
        assert_recent(body["timestamp"])
    # the same input twice: the same answer
    for acc, first in zip(accidents[:6], answers):
        assert eclo_of(esrv, acc) == first, acc
    # the accidents were chosen so that several labels come up
    assert len({label_of(e) for e in expected}) >= 2, expected


def test_label_follows_the_thresholds(esrv, ref, known_accidents):
    """Over many real accidents every label is the one the thresholds give
    for its eclo, and every label's detail sentence is the same."""
    accidents = [a[0] for a in spread(known_accidents, 60)]
    details = {}
    for acc in accidents:
        body = predict(esrv, acc).json()
        check_prediction(body)
        details.setdefault(body["interpretation"], set()).add(body["detail"])
    assert all(len(v) == 1 for v in details.values()), details
    assert len(set().union(*details.values())) == len(details), details


def test_time_period_left_out_is_derived_from_the_hour(esrv, ref, known_accidents):
    base = without_period(next(f for f, e, _ in known_accidents
                               if f["accident_year"] == 2017 and e >= 5))
    differs = 0
    for hour in range(24):
        acc = dict(base, accident_hour=hour)
        derived = eclo_of(esrv, acc)
        given = eclo_of(esrv, dict(acc, time_period=time_period(hour)))
        assert derived == given, (hour, derived, given)
        assert close(derived, ref.predict([dict(acc, time_period=time_period(hour))])[0])
        others = [p for p in ("심야", "출근시간대", "퇴근시간대", "일반시간대")
                  if p != time_period(hour)]
        if hour in (3, 8, 14, 18):
            for p in others:
                differs += eclo_of(esrv, dict(acc, time_period=p)) != derived
    assert differs > 0, "time_period never changes the prediction: is it read at all?"


def test_time_period_null_is_like_absent(esrv, known_accidents):
    """time_period is optional; a null is accepted as "not given" (no 422),
    so it must be derived from the hour like an absent one, not predicted
    with the period missing."""
    base = without_period(known_accidents[1000][0])
    for hour in (3, 8, 14, 18, 23):
        acc = dict(base, accident_hour=hour)
        absent = eclo_of(esrv, acc)
        r = predict(esrv, dict(acc, time_period=None))
        if r.status_code == 422:
            check_422(r, {"time_period"})
            continue
        assert r.status_code == 200, r.text
        got = check_prediction(r.json())
        assert got == absent, (f"hour {hour}: time_period null gives {got}, "
                               f"absent gives {absent} (derived {time_period(hour)})")


def test_integers_as_floats_and_digit_strings(esrv, known_accidents):
    acc = without_period(known_accidents[5000][0])
    want = eclo_of(esrv, acc)
    floats = {k: float(acc[k]) for k in INT_FIELDS}
    strings = {k: str(acc[k]) for k in INT_FIELDS}
    assert eclo_of(esrv, dict(acc, **floats)) == want
    assert eclo_of(esrv, dict(acc, **strings)) == want
    for k in INT_FIELDS:
        assert eclo_of(esrv, dict(acc, **{k: str(acc[k])})) == want, k
    # a fraction, a non-digit string, a boolean: not whole numbers
    for bad in (acc["accident_hour"] + 0.5, "12a", "", True, [1], {"h": 1}):
        check_422(predict(esrv, dict(acc, accident_hour=bad)), {"accident_hour"})


def test_digit_strings_with_spaces_are_treated_alike(esrv, known_accidents):
    """A digit string with a space before it and one with a space after it
    are the same kind of input: both refused (not digit strings), or both
    read as the number."""
    acc = without_period(known_accidents[5000][0])
    want = eclo_of(esrv, dict(acc, accident_hour=14))
    outcomes = {}
    for text in (" 14", "14 ", "\t14", "14\n"):
        r = predict(esrv, dict(acc, accident_hour=text))
        if r.status_code == 200:
            assert check_prediction(r.json()) == want, text
        else:
            check_422(r, {"accident_hour"})
        outcomes[text] = r.status_code
    assert len(set(outcomes.values())) == 1, f"inconsistent: {outcomes}"


def test_nul_inside_a_value_is_not_cut_off(esrv, known_accidents):
    """JSON strings may hold \\u0000; "맑음\\u0000INVALID" is not the category
    맑음, and "14\\u0000" is not a digit string: each must be refused like any
    other unknown value, not read up to the NUL."""
    acc = good_accident(known_accidents)
    for k in ("weather", "district", "day_of_week"):
        p = check_422(predict(esrv, dict(acc, **{k: acc[k] + "\u0000INVALID"})), {k})
        assert "allowed" in p[k], p
    check_422(predict(esrv, dict(acc, accident_hour="14\u0000")), {"accident_hour"})
    check_422(predict(esrv, dict(acc, accident_year="2018\u00009")), {"accident_year"})


def test_batch_with_a_nul_in_one_accident_reports_that_item(esrv, ref, known_accidents):
    """Each accident is checked when the batch runs and a bad one gets its
    own error: a NUL inside one accident's text must not fail the batch."""
    good = [a[0] for a in spread(known_accidents, 3)]
    accidents = [good[0], dict(good[1], weather=good[1]["weather"] + "\u0000x"), good[2]]
    r = esrv.post(BATCH, json={"accidents": accidents})
    batch_id = check_accepted(r, 3)
    b = wait_batch(esrv, batch_id)
    assert (b["status"], b["total"]) == ("success", 3), b
    want = ref.predict([good[0], good[2]])
    check_items(b["results"], accidents, [want[0], None, want[1]])
    assert "weather" in b["results"][1]["error"], b["results"][1]


def test_realistic_scale_on_2018_accidents(esrv, ref, known_accidents):
    """The seed app called every accident 매우 심각; the model must be on
    the real scale: over a few hundred real 2018 accidents (held out from
    training) the mean is near the real mean ECLO and the labels vary."""
    y2018 = [a for a in known_accidents if a[0]["accident_year"] == 2018]
    assert len(y2018) > 10000, len(y2018)
    picked = spread(y2018, 300)
    accidents = [without_period(a[0]) if i % 2 else a[0] for i, a in enumerate(picked)]
    expected = ref.predict(accidents)
    r = esrv.post(BATCH, json={"accidents": accidents})
    assert r.status_code == 202, r.text
    b = wait_batch(esrv, r.json()["batch_id"])
    assert b["status"] == "success", b
    check_items(b["results"], accidents, expected)
    got = [it["eclo"] for it in b["results"]]
    mean = sum(got) / len(got)
    real = sum(a[1] for a in picked) / len(picked)
    assert 3 <= mean <= 8, mean
    assert abs(mean - real) < 0.35 * real, (mean, real)
    labels = collections.Counter(it["interpretation"] for it in b["results"])
    assert len(labels) >= 2, labels
    assert labels["매우 심각"] < len(got) / 2, labels
    assert set(labels) <= set(LABELS), labels


# --------------------------------------------------------------------------
# invalid input


def good_accident(known_accidents):
    return dict(known_accidents[2000][0])


def test_each_missing_field_is_named(esrv, known_accidents):
    acc = good_accident(known_accidents)
    for k in FIELDS:
        body = {f: v for f, v in acc.items() if f != k}
        r = predict(esrv, body)
        if k == "time_period":
            assert r.status_code == 200, r.text   # optional
            continue
        p = check_422(r, {k})
        assert k in p[k]["message"] and "required" in p[k]["message"], p
        # null is missing too
        check_422(predict(esrv, dict(acc, **{k: None})), {k})


def test_each_text_field_wrong_type_or_unknown_value(esrv, ref, known_accidents):
    acc = good_accident(known_accidents)
    for k in TEXT_FIELDS:
        allowed = sorted(ref.categories[k])
        for bad in (5, 1.5, True, ["맑음"], {"v": "맑음"}, "INVALID_" + k, "",
                    acc[k] + " ", acc[k].upper() + "x"):
            p = check_422(predict(esrv, dict(acc, **{k: bad})), {k})
            assert p[k]["allowed"] == allowed, (k, bad, p[k])
            if isinstance(bad, str) and bad:
                assert bad.strip() in p[k]["message"], p[k]


def test_each_number_field_out_of_range(esrv, known_accidents):
    acc = dict(good_accident(known_accidents), accident_month=1, accident_day=15)
    for k, (lo, hi) in INT_RANGES.items():
        for bad in (lo - 1, hi + 1, -1000000, 10 ** 12, str(hi + 1), float(lo - 1)):
            p = check_422(predict(esrv, dict(acc, **{k: bad})), {k})
            assert "allowed" not in p[k], p
        for good in (lo, hi):
            eclo_of(esrv, dict(acc, **{k: good}))


def test_dates_must_exist(esrv, known_accidents):
    acc = good_accident(known_accidents)

    def date(y, m, d, **more):
        return predict(esrv, dict(acc, accident_year=y, accident_month=m, accident_day=d,
                                  **more))
    for y, m, d in ((2019, 2, 30), (2019, 2, 29), (2100, 2, 29), (2000, 2, 30),
                    (2018, 4, 31), (2018, 6, 31), (2018, 9, 31), (2018, 11, 31)):
        p = check_422(date(y, m, d), {"accident_day"})
        assert "allowed" not in p["accident_day"]
    for y, m, d in ((2020, 2, 29), (2000, 2, 29), (2019, 2, 28), (2018, 1, 31),
                    (2018, 12, 31), (2018, 7, 31), (2018, 8, 31)):
        assert date(y, m, d).status_code == 200, (y, m, d)
    # with other problems, all are listed
    check_422(date(2019, 2, 30, accident_hour=24, weather="x"),
              {"accident_day", "accident_hour", "weather"})
    # a bad month is reported as itself, not as a bad date
    check_422(date(2019, 13, 30), {"accident_month"})


def test_every_problem_is_listed_at_once(esrv, ref):
    body = {"weather": "해", "road_surface": 1, "road_type": "교차로", "accident_type": "차대차 - 추돌",
            "time_period": "낮", "district": "중구", "day_of_week": "월",
            "accident_hour": 25, "accident_year": "이천", "accident_month": 0,
            "accident_day": 1.5, "severity": "high", "사고번호": 1}
    p = check_422(predict(esrv, body), set(FIELDS) | {"severity", "사고번호"})
    for k in TEXT_FIELDS:
        assert p[k]["allowed"] == sorted(ref.categories[k]), k
    for k in INT_FIELDS + ["severity", "사고번호"]:
        assert "allowed" not in p[k], p[k]
    assert "severity" in p["severity"]["message"]


def test_unknown_field_is_refused(esrv, known_accidents):
    acc = good_accident(known_accidents)
    p = check_422(predict(esrv, dict(acc, speed_kmh=80)), {"speed_kmh"})
    assert "speed_kmh" in p["speed_kmh"]["message"]
    check_422(predict(esrv, dict(acc, Weather="맑음")), {"Weather"})


def test_bodies_that_are_not_an_accident(esrv):
    for raw in (b"[]", b"[{}]", b'"accident"', b"42", b"null", b"true"):
        r = esrv.post(PREDICT, data=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 422, (raw, r.status_code, r.text)
        assert r.json()["error"] in ("invalid_accident", "invalid_field"), r.text
    for raw in (b"{", b'{"weather": }', b"{'weather': 1}", b'{"a":1,"a":2}'):
        r = esrv.post(PREDICT, data=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400, (raw, r.status_code, r.text)
        assert r.json()["error"] == "malformed_json", r.text
    r = esrv.post(PREDICT, data=b"", headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    # {}: every required field, and nothing else
    check_422(predict(esrv, {}), set(FIELDS) - {"time_period"})
    # an /api route: a token is needed
    r = esrv.post(PREDICT, json=SEED_EXAMPLE, auth=False)
    assert r.status_code == 401, r.text


def test_seed_example_names_exactly_the_unknown_values(esrv, ref):
    p = check_422(predict(esrv, SEED_EXAMPLE), {"road_type", "time_period", "district"})
    for k in ("road_type", "time_period", "district"):
        assert p[k]["allowed"] == sorted(ref.categories[k]), k
        assert f'"{SEED_EXAMPLE[k]}"' in p[k]["message"], p[k]
    assert "교차로 - 교차로안" in p["road_type"]["allowed"]
    assert "대구광역시 중구 동인동1가" in p["district"]["allowed"]


def test_seed_invalid_weather(esrv, ref, known_accidents):
    acc = good_accident(known_accidents)
    p = check_422(predict(esrv, dict(acc, weather="INVALID_WEATHER")), {"weather"})
    assert p["weather"]["allowed"] == sorted(ref.categories["weather"])
    assert {"맑음", "흐림", "비", "눈", "안개", "기타"} <= set(p["weather"]["allowed"])
    assert "INVALID_WEATHER" in p["weather"]["message"]


def test_seed_batch_example_gives_an_error_per_item(esrv):
    accidents = [SEED_EXAMPLE,
                 dict(SEED_EXAMPLE, weather="비", road_surface="젖음/습기",
                      accident_type="차대사람", accident_hour=8, time_period="아침",
                      district="수성구"),
                 dict(SEED_EXAMPLE, weather="흐림", accident_type="차량단독",
                      accident_hour=22, time_period="밤", district="달서구",
                      road_type="단일로")]
    r = esrv.post(BATCH, json={"accidents": accidents})
    assert r.status_code == 202, r.text
    b = wait_batch(esrv, r.json()["batch_id"])
    assert b["status"] == "success", b
    check_items(b["results"], accidents, [None, None, None])
    for item in b["results"]:
        for k in ("road_type", "time_period", "district"):
            assert k in item["error"], item
        assert "weather" not in item["error"], item


# --------------------------------------------------------------------------
# concurrency


def test_fifty_concurrent_predictions_equal_sequential(esrv, ref, known_accidents):
    accidents = [without_period(a[0]) if i % 3 == 0 else a[0]
                 for i, a in enumerate(spread(known_accidents[7:], 50))]
    sequential = [eclo_of(esrv, a) for a in accidents]
    # a batch runs meanwhile, on the same model
    busy = [a[0] for a in spread(known_accidents[3:], 8000)]
    busy_id = check_accepted(esrv.post(BATCH, json={"accidents": busy}), len(busy))
    out = [None] * len(accidents)
    barrier = threading.Barrier(len(accidents))

    def one(i):
        try:
            barrier.wait(30)
            out[i] = predict(esrv, accidents[i], timeout=60)
        except Exception as e:   # reported below
            out[i] = e
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(accidents))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for i, r in enumerate(out):
        assert not isinstance(r, Exception) and r is not None, (i, r)
        assert r.status_code == 200, (i, r.status_code, r.text[:500])
        assert check_prediction(r.json()) == sequential[i], i
    b = wait_batch(esrv, busy_id)
    assert b["status"] == "success", b
    check_items(b["results"], busy, ref.predict(busy))
    esrv.assert_healthy()


# --------------------------------------------------------------------------
# batches


def mixed_batch(known_accidents, n, seed):
    """n accidents: real ones (some without time_period), with bad ones at
    known places.  Returns (accidents, indices of the bad ones)."""
    rnd = random.Random(seed)
    real = [a[0] for a in spread(known_accidents, min(n, len(known_accidents)))]
    accidents, bad = [], set()
    for i in range(n):
        acc = dict(real[i % len(real)])
        if rnd.random() < 0.3:
            del acc["time_period"]
        kind = i % 97
        if kind == 13:
            acc["weather"] = "INVALID_WEATHER"
        elif kind == 29:
            acc = dict(acc, accident_year=2019, accident_month=2, accident_day=30)
        elif kind == 41:
            del acc["district"]
        elif kind == 53:
            acc = "not an accident"
        elif kind == 67:
            acc = None
        elif kind == 79:
            acc = dict(acc, extra=1)
        elif kind == 83:
            acc = dict(acc, accident_hour="24")
        else:
            accidents.append(acc)
            continue
        accidents.append(acc)
        bad.add(i)
    return accidents, bad


def expected_items(ref, accidents, bad):
    good = [i for i in range(len(accidents)) if i not in bad]
    pred = ref.predict([accidents[i] for i in good])
    out = [None] * len(accidents)
    for i, v in zip(good, pred):
        out[i] = v
    return out


def check_accepted(r, n):
    assert r.status_code == 202, (r.status_code, r.text[:1000])
    b = r.json()
    assert b["status"] == "pending" and b["total"] == n, b
    assert b["results_url"] == results_url(b["batch_id"]), b
    assert r.headers.get("Location") == b["results_url"], r.headers
    assert parse_rfc3339(b["estimated_completion"]), b
    return b["batch_id"]


ORDER = {"pending": 0, "processing": 1, "success": 2}


def test_batch_runs_pending_processing_success_in_order(esrv, ref, known_accidents):
    accidents, bad = mixed_batch(known_accidents, 12000, seed=3)
    expected = expected_items(ref, accidents, bad)
    r = esrv.post(BATCH, json={"accidents": accidents})
    batch_id = check_accepted(r, len(accidents))
    seen = []
    b = wait_batch(esrv, batch_id, seen=seen, interval=0.03)
    assert b["status"] == "success", b
    statuses = [s for s, _, _ in seen]
    assert "processing" in statuses, seen
    assert [ORDER[s] for s in statuses] == sorted(ORDER[s] for s in statuses), seen
    progress = [p for _, p, _ in seen]
    assert progress == sorted(progress) and all(0 <= p <= 100 for p in progress), seen
    for s, p, done in seen:
        assert abs(done - p * len(accidents) / 100) <= len(accidents) / 100 + 1, (s, p, done)
        if s == "pending":
            assert p == 0 and done == 0, seen
    assert (b["progress"], b["total"], b["processed"]) == (100, len(accidents), len(accidents))
    check_items(b["results"], accidents, expected)
    # the job behind it
    j = esrv.get(f"/api/jobs/{batch_id}").json()
    assert (j["id"], j["kind"], j["status"], j["progress"], j["attempts"]) == \
        (batch_id, "predict_batch", "done", 100, 1), {k: v for k, v in j.items() if k != "result"}
    assert j["result"]["results"] == b["results"]
    # a single prediction agrees with its item
    for i in sorted(set(range(0, len(accidents), 997)) - bad):
        assert eclo_of(esrv, accidents[i]) == b["results"][i]["eclo"], i
    # finished: no cancelling
    r = esrv.delete(f"/api/jobs/{batch_id}")
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "already_finished", r.text


def test_batch_request_errors(esrv):
    for body in ({}, {"accidents": "x"}, {"accidents": {"0": {}}}, {"accidents": None},
                 {"rows": []}):
        r = esrv.post(BATCH, json=body)
        assert r.status_code == 422, (body, r.status_code, r.text)
    for raw in (b"[]", b"{", b""):
        r = esrv.post(BATCH, data=raw, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 422), (raw, r.status_code, r.text)
    # SHEAF_BATCH_MAX_ROWS (the default, 10000, is tested with the queue bound)
    r = esrv.post(BATCH, json={"accidents": [{}] * (ESRV_MAX_ROWS + 1)})
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "too_many_rows", r.text
    r = esrv.post(BATCH, json={"accidents": [{}] * ESRV_MAX_ROWS})
    batch_id = check_accepted(r, ESRV_MAX_ROWS)
    assert esrv.delete(f"/api/jobs/{batch_id}").status_code in (202, 409)
    # an empty batch is a batch of nothing
    r = esrv.post(BATCH, json={"accidents": []})
    b = wait_batch(esrv, check_accepted(r, 0))
    assert b["status"] == "success" and b["results"] == [] and b["total"] == 0, b
    # no such batch
    for path in (results_url("AAAAAAAAAAAAAAAAAAAAAA"), "/api/jobs/AAAAAAAAAAAAAAAAAAAAAA"):
        assert esrv.get(path).status_code == 404, path
    assert esrv.delete("/api/jobs/AAAAAAAAAAAAAAAAAAAAAA").status_code == 404


def test_cancel_a_running_batch_and_other_users_see_nothing(esrv, known_accidents):
    n = 30000
    accidents = [a[0] for a in spread(known_accidents, n)]
    r = esrv.post(BATCH, json={"accidents": accidents}, timeout=120)
    batch_id = check_accepted(r, n)
    other = esrv.new_user()
    for path in (results_url(batch_id), f"/api/jobs/{batch_id}"):
        r = other.get(path)
        assert r.status_code == 404 and r.json()["error"] == "not_found", (path, r.text)
    r = other.delete(f"/api/jobs/{batch_id}")
    assert r.status_code == 404, r.text
    wait_job(esrv, batch_id, lambda j: j["status"] != "queued", what="start",
             interval=0.01)
    r = esrv.delete(f"/api/jobs/{batch_id}")
    assert r.status_code == 202, r.text
    assert r.json()["cancel_requested"] is True, r.json()
    assert r.json()["status"] in ("running", "cancelled"), r.json()
    b = wait_batch(esrv, batch_id, timeout=30)
    assert b["status"] == "cancelled", {k: v for k, v in b.items() if k != "results"}
    assert "results" not in b and isinstance(b.get("error"), str), b
    assert b["progress"] < 100 and b["processed"] < n, b
    j = esrv.get(f"/api/jobs/{batch_id}").json()
    assert (j["status"], j["cancel_requested"], j["result"]) == ("cancelled", True, None), j
    assert j["finished_at"] is not None, j
    r = esrv.delete(f"/api/jobs/{batch_id}")
    assert r.status_code == 409, r.text
    # still invisible to the other user, and cancelling the other's is not possible
    assert other.get(results_url(batch_id)).status_code == 404
    assert other.delete(f"/api/jobs/{batch_id}").status_code == 404


def test_cancel_of_a_running_batch_is_seen_at_its_next_chunk(esrv, known_accidents):
    """A running batch that is cancelled (202) stops at its next 500-row
    chunk.  The batches here take about 0.15 s and are cancelled just after
    their first progress report ("predicted 0 of N"), so several chunks
    are still to come: ending "success" long after the cancel was accepted
    means the chunks did not look for it."""
    pool = [a[0] for a in spread(known_accidents[11:], ESRV_MAX_ROWS)]

    def start(n):
        bid = check_accepted(esrv.post(BATCH, json={"accidents": pool[:n]}, timeout=120), n)
        wait_job(esrv, bid, lambda j: j["status"] != "queued"
                 and j["message"].startswith("predicted"), what="first report",
                 interval=0.005)
        return bid

    def run_time(n):
        j = wait_job(esrv, start(n), lambda j: j["status"] == "done", timeout=120, what="end")
        return (parse_rfc3339(j["finished_at"]) - parse_rfc3339(j["started_at"])).total_seconds()
    # a size that takes about 0.15 s here (at least six chunks)
    n = 3000
    n = max(3000, min(ESRV_MAX_ROWS, int(n * 0.15 / max(run_time(n), 0.001)) // 500 * 500))
    run = run_time(n)
    per_chunk = run / math.ceil(n / 500)
    violations, tried = [], 0
    for _ in range(6):
        bid = start(n)
        r = esrv.delete(f"/api/jobs/{bid}")
        accepted = time.time()
        if r.status_code == 409:
            continue          # it had finished already: nothing to learn
        assert r.status_code == 202, r.text
        tried += 1
        j = wait_job(esrv, bid, lambda j: j["status"] not in ("queued", "running"),
                     timeout=60, what="end")
        assert j["status"] in ("cancelled", "done"), j["status"]
        if j["status"] == "done":
            after = parse_rfc3339(j["finished_at"]).timestamp() - accepted
            if after > 2 * per_chunk + 0.02:
                violations.append(f"cancel accepted {after:.3f}s (~{after / per_chunk:.1f} "
                                  f"chunks) before the batch ended as success")
    assert tried, f"no cancel reached a running batch ({n} rows in {run:.3f}s)"
    assert not violations, (f"{n} rows, {run:.3f}s a run, {per_chunk * 1000:.0f} ms a "
                            f"chunk: " + "; ".join(violations))


# --------------------------------------------------------------------------
# the model setting


def test_model_off_and_from_a_file(sheaf_factory, ref, known_accidents, tmp_path):
    off = sheaf_factory.start(env={"SHEAF_ECLO_MODEL": "off"})
    acc = known_accidents[3][0]
    for method, path, body in (("POST", PREDICT, acc), ("GET", "/api/predict/eclo/schema", None),
                               ("POST", BATCH, {"accidents": [acc]})):
        r = off.request(method, path, json=body)
        assert r.status_code == 503, (path, r.status_code, r.text)
        assert r.json()["error"] == "no_model", r.text
    off.check_clean_exit()
    copy = tmp_path / "eclo-copy.model"
    copy.write_bytes(MODEL_FILE.read_bytes())
    srv = sheaf_factory.start(env={"SHEAF_ECLO_MODEL": str(copy)})
    s = srv.get("/api/predict/eclo/schema").json()
    assert s["model_version"].startswith("eclo-" + ref.sha256[:12]), s["model_version"]
    assert s["model_version"] != "eclo-" + ref.sha256[:12]   # says it is a file
    want = ref.predict([acc])[0]
    assert close(eclo_of(srv, acc), want)
    # a model file that cannot be read, or is not a model: no start
    junk = tmp_path / "junk.model"
    junk.write_bytes(b'{"format":"sheaf-model-1"}\nnot xgboost')
    for setting in (str(tmp_path / "missing.model"), str(junk)):
        bad = sheaf_factory.start(env={"SHEAF_ECLO_MODEL": setting}, wait=False)
        rc = bad.wait_exit(30)
        bad._checked = True
        assert rc not in (0, None), (setting, rc)
        assert "SHEAF_ECLO_MODEL" in bad.log_text(), bad.log_text()[-2000:]
        assert not sanitizer_reports(bad.log_text()), bad.log_text()[-6000:]


# --------------------------------------------------------------------------
# the queue bound


def start_training(who):
    """A training job that keeps a worker busy for minutes (5000 rounds of
    deep trees on random data); returns its job id once it runs."""
    rnd = random.Random(7)
    lines = ["a,b,c,d,y"] + [
        f"{rnd.random():.6f},{rnd.random():.6f},{rnd.randrange(100)},{rnd.random():.6f},"
        f"{rnd.random():.6f}" for _ in range(20000)]
    d = upload_ready(who, ("\n".join(lines) + "\n").encode())
    r = who.post("/api/models", json={
        "dataset_id": d["id"], "target": "y", "name": "blocker",
        "params": {"rounds": 5000, "max_depth": 14, "min_child_weight": 0, "eta": 0.01,
                   "threads": 1}})
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    wait_job(who, job_id, lambda j: j["status"] == "running", what="training start")
    return job_id


def test_queue_bound_429_then_all_complete(sheaf_factory, ref, known_accidents):
    srv = sheaf_factory.start(env={"SHEAF_JOB_WORKERS": "1", "SHEAF_BATCH_MAX_QUEUED": "100",
                                   "SHEAF_MAX_BODY": "4M"})
    blocker = start_training(srv.user)   # not a batch: does not count
    # SHEAF_BATCH_MAX_ROWS is 10000 by default
    r = srv.post(BATCH, json={"accidents": [{}] * 10001})
    assert r.status_code == 413 and r.json()["error"] == "too_many_rows", r.text
    big = check_accepted(srv.post(BATCH, json={"accidents": [{}] * 10000}), 10000)
    r = srv.delete(f"/api/jobs/{big}")       # queued behind the training: ends now
    assert r.status_code == 202 and r.json()["status"] == "cancelled", r.text
    pool = [a[0] for a in spread(known_accidents, 400)]
    batches = {}                          # batch id -> its accidents

    def submit(who, i):
        accs = [pool[(2 * i) % len(pool)], without_period(pool[(2 * i + 1) % len(pool)]),
                dict(SEED_EXAMPLE)]
        r = who.post(BATCH, json={"accidents": accs})
        return r, accs
    for i in range(100):
        r, accs = submit(srv.user, i)
        batches[check_accepted(r, 3)] = accs
    # the worker is still training, so all 100 wait
    assert srv.get(f"/api/jobs/{blocker}").json()["status"] == "running"
    r, _ = submit(srv.user, 100)
    assert r.status_code == 429, r.text
    assert r.json()["error"] == "queue_full", r.text
    assert int(r.headers["Retry-After"]) > 0, r.headers
    # across all users
    other = srv.new_user()
    r, _ = submit(other, 101)
    assert r.status_code == 429, r.text
    assert "Retry-After" in r.headers
    # cancelling a queued batch ends it at once and frees its place
    victim = list(batches)[50]
    r = srv.delete(f"/api/jobs/{victim}")
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "cancelled", r.json()
    b = srv.get(results_url(victim)).json()
    assert b["status"] == "cancelled" and "results" not in b, b
    assert srv.delete(f"/api/jobs/{victim}").status_code == 409
    del batches[victim]
    r, accs = submit(other, 102)
    batches[check_accepted(r, 3)] = accs
    owners = {list(batches)[-1]: other}
    r, _ = submit(srv.user, 103)
    assert r.status_code == 429, r.text
    # a training job is not a batch
    assert srv.get(results_url(blocker)).status_code == 404
    # the blocker goes; the 100 run to the end, each with its own results
    assert srv.get(f"/api/jobs/{blocker}").json()["status"] == "running", \
        "training ended early: the queue was not held"
    assert srv.delete(f"/api/jobs/{blocker}").status_code == 202
    for batch_id, accs in batches.items():
        who = owners.get(batch_id, srv.user)
        b = wait_batch(who, batch_id, timeout=120)
        assert b["status"] == "success", b
        check_items(b["results"], accs, ref.predict(accs[:2]) + [None])
    j = srv.get(f"/api/jobs/{blocker}").json()
    assert j["status"] == "cancelled", j
    # the queue is free again
    r, _ = submit(srv.user, 104)
    check_accepted(r, 3)


# --------------------------------------------------------------------------
# restarts


def test_kill9_mid_batch_recovers_and_completes(sheaf_factory, ref, known_accidents):
    env = {"SHEAF_JOB_WORKERS": "1", "SHEAF_JOB_HEARTBEAT_MS": "200",
           "SHEAF_BATCH_MAX_ROWS": "40000", "SHEAF_MAX_BODY": "32M"}
    srv = sheaf_factory.start(env=env)
    user = srv.user
    accidents, bad = mixed_batch(known_accidents, 36000, seed=9)
    expected = expected_items(ref, accidents, bad)
    big = check_accepted(srv.post(BATCH, json={"accidents": accidents}, timeout=120),
                         len(accidents))
    # two more wait behind it (one worker)
    small = {}
    for i in range(2):
        accs = [a[0] for a in spread(known_accidents[i:], 700)]
        small[check_accepted(srv.post(BATCH, json={"accidents": accs}), len(accs))] = accs
    j = wait_job(srv, big, lambda j: j["status"] == "running" and j["progress"] > 0,
                 timeout=60, what="progress", interval=0.02)
    srv.proc.kill()
    assert j["progress"] < 60, f"killed late, at {j['progress']}%: make the batch bigger"
    srv._checked = True   # killed on purpose: no clean exit to check
    srv.wait_exit()
    assert not sanitizer_reports(srv.log_text()), srv.log_text()[-6000:]

    srv = sheaf_factory.start(env=env, data_dir=srv.data_dir)
    user = srv.adopt_user(user)
    # at once: the queued ones are still pending, the big one is "processing"
    # (its runner is dead but not yet found out)
    b = user.get(results_url(big)).json()
    assert b["status"] in ("processing", "pending") and b["processed"] < len(accidents), \
        {k: v for k, v in b.items() if k != "results"}
    wait_job(user, big, lambda j: j["status"] == "done", timeout=120, what="end")
    b = wait_batch(user, big, timeout=10)
    assert b["status"] == "success", {k: v for k, v in b.items() if k != "results"}
    assert (b["total"], b["processed"], b["progress"]) == (len(accidents), len(accidents), 100)
    check_items(b["results"], accidents, expected)
    for i in sorted(set(range(0, len(accidents), 2999)) - bad):
        assert eclo_of(user, accidents[i]) == b["results"][i]["eclo"], i
    j = user.get(f"/api/jobs/{big}").json()
    assert (j["status"], j["attempts"]) == ("done", 2), \
        {k: v for k, v in j.items() if k != "result"}
    for batch_id, accs in small.items():
        b = wait_batch(user, batch_id, timeout=60)
        assert b["status"] == "success", b
        check_items(b["results"], accs, ref.predict(accs))
        j = user.get(f"/api/jobs/{batch_id}").json()
        assert (j["status"], j["attempts"]) == ("done", 1), \
            {k: v for k, v in j.items() if k != "result"}
    assert any("interrupted job(s) queued again" in l for l in srv.log_lines()), \
        srv.log_text()[-3000:]
    srv.assert_healthy()


def test_graceful_restart_mid_batch_runs_it_again(sheaf_factory, ref, known_accidents):
    """SIGTERM while a batch runs: the server exits cleanly at once (the
    batch stops at its next chunk and goes back to the queue, not counted
    as an interrupted attempt), and the next server finishes it."""
    env = {"SHEAF_JOB_WORKERS": "1", "SHEAF_JOB_HEARTBEAT_MS": "200",
           "SHEAF_BATCH_MAX_ROWS": "40000", "SHEAF_MAX_BODY": "32M"}
    srv = sheaf_factory.start(env=env)
    user = srv.user
    accidents = [a[0] for a in spread(known_accidents, 36000)]
    big = check_accepted(srv.post(BATCH, json={"accidents": accidents}, timeout=120),
                         len(accidents))
    j = wait_job(srv, big, lambda j: j["status"] == "running" and j["progress"] > 0,
                 timeout=60, what="progress", interval=0.02)
    t0 = time.monotonic()
    srv.check_clean_exit()
    assert time.monotonic() - t0 < 10, "the running batch held up the shutdown"
    assert j["progress"] < 60, f"stopped late, at {j['progress']}%: make the batch bigger"
    assert not any(big in l and "status=done" in l for l in srv.log_lines()), \
        "the batch ended before the shutdown: make it bigger"
    srv = sheaf_factory.start(env=env, data_dir=srv.data_dir)
    user = srv.adopt_user(user)
    j = user.get(f"/api/jobs/{big}").json()
    assert j["status"] in ("queued", "running", "done"), \
        {k: v for k, v in j.items() if k != "result"}
    wait_job(user, big, lambda j: j["status"] == "done", timeout=120, what="end")
    b = wait_batch(user, big, timeout=10)
    assert b["status"] == "success", {k: v for k, v in b.items() if k != "results"}
    check_items(b["results"], accidents, ref.predict(accidents))
    j = user.get(f"/api/jobs/{big}").json()
    assert (j["status"], j["attempts"]) == ("done", 1), \
        {k: v for k, v in j.items() if k != "result"}


def test_batch_bodies_have_their_own_size_limit(tmp_path_factory, known_accidents):
    """10000 accidents are about 3 MB: over SHEAF_MAX_BODY (1M by default)
    but within SHEAF_BATCH_MAX_BODY, which only the routes taking many rows
    use; the other routes keep the small limit."""
    accidents = [a[0] for a in known_accidents[:10000]]
    body = json.dumps({"accidents": accidents}).encode()
    assert len(body) > (1 << 20) * 2, len(body)
    f = SheafFactory(tmp_path_factory.mktemp("eclo-body"))
    srv = f.start()   # the defaults
    r = srv.post(BATCH, data=body, headers={"Content-Type": "application/json"})
    batch_id = check_accepted(r, 10000)
    b = wait_batch(srv, batch_id)
    assert b["status"] == "success" and len(b["results"]) == 10000, b.get("error")
    assert all(item["error"] is None for item in b["results"])
    # the same bytes elsewhere: the ordinary limit
    r = srv.post("/api/models", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "SHEAF_MAX_BODY" in r.json()["detail"], r.text
    f.finish()
    f = SheafFactory(tmp_path_factory.mktemp("eclo-body-small"))
    srv = f.start(env={"SHEAF_BATCH_MAX_BODY": "2M"})
    r = srv.post(BATCH, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "SHEAF_BATCH_MAX_BODY" in r.json()["detail"], r.text
    f.finish()
