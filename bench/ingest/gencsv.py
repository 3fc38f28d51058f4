#!/usr/bin/python3
"""Writes the ingest benchmark's generated CSV: deterministic, realistic.

    gencsv.py OUT BYTES

Writes rows until the file holds at least BYTES bytes (whole rows only) and
prints the number of data rows (the header is not counted) on stdout.  The
same seed gives the same bytes, and a smaller BYTES gives a prefix of a
larger one's rows (the 100 MB sample used to estimate pandas is the first
rows of the 1 GB file).

Columns (UTF-8, LF, a header row):
  id            integer, 1, 2, ...
  reported_at   datetime "YYYY-MM-DD HH:MM:SS"
  day           date "YYYY-MM-DD"
  district      Korean categorical (25 values, as Seoul's 구)
  category      ASCII categorical (12 values)
  weekday       Korean categorical (7 values)
  amount        real, two decimals; about 2% empty (null)
  quantity      integer, 0..500
  score         real, 0..1, four decimals; about 5% "NA"
  lat, lng      reals around Seoul, six decimals
  status        ASCII categorical (4 values); about 10% empty
  memo          free text, Korean or ASCII; about 8% quoted with commas,
                about 1% with doubled quotes inside, about 30% empty
"""
import random
import sys

DISTRICTS = ["종로구", "중구", "용산구", "성동구", "광진구", "동대문구", "중랑구", "성북구",
             "강북구", "도봉구", "노원구", "은평구", "서대문구", "마포구", "양천구", "강서구",
             "구로구", "금천구", "영등포구", "동작구", "관악구", "서초구", "강남구", "송파구",
             "강동구"]
CATEGORIES = ["traffic", "parking", "noise", "waste", "water", "lighting", "road-damage",
              "graffiti", "animal", "tree", "snow", "other"]
WEEKDAYS = ["월", "화", "수", "목", "금", "토", "일"]
STATUSES = ["open", "closed", "in progress", "rejected"]
WORDS_KO = ["차량", "주차", "소음", "민원", "접수", "처리", "완료", "도로", "보행자", "신호등",
            "파손", "요청", "확인", "현장", "조치"]
WORDS_EN = ["car", "parked", "near", "the", "school", "gate", "broken", "light", "again",
            "please", "check", "blocked", "sidewalk", "since", "morning"]


def main():
    out, target = sys.argv[1], int(sys.argv[2])
    rng = random.Random(20261122)
    r = rng.random
    ri = rng.randrange
    header = "id,reported_at,day,district,category,weekday,amount,quantity,score,lat,lng,status,memo\n"
    written = 0
    rows = 0
    # Days from 2019-01-01 (a Tuesday), precomputed: the loop only indexes.
    days = []
    mdays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    for y in range(2019, 2025):
        for m in range(12):
            n = mdays[m] + (1 if m == 1 and y % 4 == 0 else 0)
            for d in range(1, n + 1):
                days.append("%04d-%02d-%02d" % (y, m + 1, d))
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write(header)
        written += len(header.encode())
        buf = []
        size = 0
        while written + size < target:
            rows += 1
            di = ri(len(days))
            day = days[di]
            amount = "" if r() < 0.02 else "%.2f" % (r() * 100000)
            score = "NA" if r() < 0.05 else "%.4f" % r()
            status = "" if r() < 0.10 else STATUSES[ri(4)]
            x = r()
            if x < 0.30:
                memo = ""
            elif x < 0.38:
                words = WORDS_KO if r() < 0.5 else WORDS_EN
                memo = '"%s, %s, %s"' % (words[ri(15)], words[ri(15)], words[ri(15)])
            elif x < 0.39:
                memo = '"he said ""%s"", then %s"' % (WORDS_EN[ri(15)], WORDS_EN[ri(15)])
            elif x < 0.70:
                memo = " ".join(WORDS_KO[ri(15)] for _ in range(1 + ri(5)))
            else:
                memo = " ".join(WORDS_EN[ri(15)] for _ in range(1 + ri(6)))
            line = "%d,%s %02d:%02d:%02d,%s,%s,%s,%s,%s,%d,%s,%.6f,%.6f,%s,%s\n" % (
                rows, day, ri(24), ri(60), ri(60), days[max(0, di - ri(3))],
                DISTRICTS[ri(25)], CATEGORIES[ri(12)], WEEKDAYS[(di + 1) % 7], amount, ri(501),
                score, 37.45 + r() * 0.25, 126.8 + r() * 0.35, status, memo)
            buf.append(line)
            size += len(line.encode())
            if len(buf) == 4096:
                f.write("".join(buf))
                written += size
                buf, size = [], 0
        f.write("".join(buf))
    print(rows)


if __name__ == "__main__":
    main()
