"""pkictl ca plan: the rollover timeline as text, JSON, SVG and HTML, and
the fleet simulator (--simulate) under IOS's and pkid's timers."""
import datetime
import json
import re
import xml.etree.ElementTree as ET

from conftest import error_code, pkictl

SVG = "{http://www.w3.org/2000/svg}"
AT = "2028-03-01T00:00:00Z"
AT_EPOCH = 1835481600


def plan_json(d, *extra):
    cp = pkictl("ca", "plan", "--dir", d, "--json", "--at", AT, *extra)
    return cp, json.loads(cp.stdout)


def axis_of(root):
    g = root.find(f".//{SVG}g[@id='axis']")
    t0, t1 = int(g.get("data-t0")), int(g.get("data-t1"))
    x0, x1 = float(g.get("data-x0")), float(g.get("data-x1"))

    def x(t):
        t = min(max(t, t0), t1)
        return x0 + (t - t0) * (x1 - x0) / (t1 - t0)
    return x, t0, t1


def mark_x(el):
    """Where a mark sits: a line's x1, a rect's x, a group's first line."""
    if el.tag == f"{SVG}line":
        return float(el.get("x1"))
    if el.tag == f"{SVG}rect":
        return float(el.get("x"))
    return float(el.find(f"{SVG}line").get("x1"))


def test_plan_text(ca):
    cp = pkictl("ca", "plan", "--dir", ca, "--at", AT, check=True)
    out = cp.stdout
    for want in ["L        365 days", "overlap  372 days   derived: L + M",
                 "issuing  2    planned", "activation: issuance moves to 2",
                 "devices issued at", "asks first for gen 2's CA "
                 "certificate", "timeline", "T today"]:
        assert want in out, want
    assert cp.stderr == ""


def test_plan_json_dates(ca):
    cp, v = plan_json(ca)
    assert cp.returncode == 0 and v["refused"] is None
    p = v["plan"]
    assert v["now"] == AT_EPOCH
    assert p["leaf_max"] == 365 * 86400 and p["margin"] == 7 * 86400
    assert p["overlap"] == p["leaf_max"] + p["margin"] and p["derived"]
    assert p["shadow_at"] == p["not_after"] - p["overlap"]
    assert p["activate_at"] == p["not_after"] - p["leaf_max"]
    assert p["must_exist_by"] == p["shadow_at"]
    gens = {(g["role"], g["generation"]): g for g in v["generations"]}
    assert gens[("issuing", 1)]["state"] == "current"
    assert gens[("issuing", 1)]["not_after"] == p["not_after"]
    assert gens[("issuing", 2)]["state"] == "planned"
    assert gens[("issuing", 2)]["not_before"] == p["shadow_at"]
    s = v["samples"]
    assert len(s) == 4 and s[0]["issued"] == p["not_before"]
    assert [x["needs_next"] for x in s] == [False, False, True, True]
    assert all(x["end"] <= p["not_after"] for x in s)


def test_plan_svg_marks_at_their_dates(ca, tmp_path):
    """The SVG is well-formed, and every mark sits where the axis puts its
    date; the dates are the plan's."""
    svg = tmp_path / "plan.svg"
    cp = pkictl("ca", "plan", "--dir", ca, "--at", AT, "--svg", svg,
                check=True)
    assert f"wrote {svg}" in cp.stderr
    root = ET.parse(svg).getroot()
    assert root.tag == f"{SVG}svg"
    assert "href" not in svg.read_text()
    x, t0, t1 = axis_of(root)
    _, v = plan_json(ca)
    p = v["plan"]
    want = {"mark-today": AT_EPOCH, "mark-shadow": p["shadow_at"],
            "mark-must-exist": p["must_exist_by"],
            "mark-activate": p["activate_at"],
            "mark-expiry": p["not_after"], "overlap": p["shadow_at"],
            "dim-overlap": p["shadow_at"], "dim-leaf": p["activate_at"],
            "gen-issuing-1": p["not_before"],
            "gen-issuing-2": p["shadow_at"]}
    for i, s in enumerate(v["samples"], 1):
        want[f"leaf-{i}"] = s["issued"]
        want[f"renew-{i}"] = s["renew"]
    for ident, t in want.items():
        el = root.find(f".//*[@id='{ident}']")
        assert el is not None, ident
        assert int(el.get("data-t")) == t, ident
        assert abs(mark_x(el) - x(t)) < 0.01, ident
    # Spans end where their end date is.
    for el in root.iter():
        if el.get("data-t-end") is not None and el.tag == f"{SVG}rect":
            end = float(el.get("x")) + float(el.get("width"))
            assert abs(end - x(int(el.get("data-t-end")))) < 0.02, \
                el.get("id")
    assert t0 <= p["not_before"] and t1 >= p["not_after"]
    # Every element with a date is inside the axis, and every tick is
    # the first of a month.
    ticks = root.findall(f".//{SVG}line[@class='tick']")
    assert len(ticks) >= 4
    for tk in ticks:
        t = int(tk.get("data-t"))
        assert t % 86400 == 0 and t0 <= t <= t1
        assert abs(float(tk.get("x1")) - x(t)) < 0.01
    text = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "activation: issuance moves to the next generation" in text
    assert "L = 365 days" in text


def test_plan_html_embeds_svg(ca, tmp_path):
    html = tmp_path / "plan.html"
    pkictl("ca", "plan", "--dir", ca, "--html", html, check=True)
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>")
    m = re.search(r"<svg .*</svg>", page, re.S)
    assert m is not None
    root = ET.fromstring(m.group(0))
    assert root.find(f".//*[@id='mark-shadow']") is not None
    assert "notAfter - (L + M)" in page


def test_plan_refused_still_drawn(tmp_path):
    """IOS's 30-day overlap with 600-day leaves: refused, and drawn with
    the refusal and the months devices would get 404."""
    d = tmp_path / "ios"
    pkictl("ca", "init", "--dir", d, "--set", "profile.device.lifetime=600d",
           check=True)
    conf = d / "pkid.conf"
    conf.write_text(re.sub(r"(?m)^rollover_overlap = .*$",
                           "rollover_overlap = 30d", conf.read_text()))
    svg = tmp_path / "ios.svg"
    cp = pkictl("ca", "plan", "--dir", d, "--svg", svg)
    assert cp.returncode == 2, cp.stderr
    assert error_code(cp) == "rollover-overlap-too-short"
    assert "LATE" in cp.stdout and "timeline" in cp.stdout
    root = ET.parse(svg).getroot()
    g = root.find(f".//*[@id='refusal']")
    assert g.get("data-code") == "rollover-overlap-too-short"
    _, v = plan_json(d)
    p = v["plan"]
    assert v["refused"]["code"] == "rollover-overlap-too-short"
    assert "607d" in v["refused"]["message"]
    assert p["shadow_at"] == p["not_after"] - 30 * 86400
    gap = root.find(f".//*[@id='gap']")
    assert int(gap.get("data-t")) == p["activate_at"]
    assert int(gap.get("data-t-end")) == p["shadow_at"]


def simulate(*args):
    cp = pkictl("ca", "plan", "--simulate", "--json", *args, check=True)
    return json.loads(cp.stdout)


def test_simulate_ios_vs_pkid():
    """The same fleet (300 devices, 6 years) under IOS's timers gets
    GetNextCACert 404s and a load far above the server's 80 a minute;
    under pkid's, no 404, no lapse, and the server never full."""
    ios = simulate("--timers", "ios", "--devices", "300")
    r = ios["results"]
    assert ios["refused_by_pkid"] == "rollover-overlap-too-short"
    assert r["nextca_404"] > 0 and r["peak_per_minute"] > 80
    assert r["refused"] > 0 and r["nextca_ok"] == 300
    gens = ios["generations"]
    assert r["first_404"] >= gens[0]["not_after"] - 180 * 86400
    assert r["last_404"] < gens[1]["not_before"]
    pk = simulate("--timers", "pkid", "--devices", "300")
    r = pk["results"]
    assert pk["refused_by_pkid"] is None
    assert r["nextca_404"] == 0 and r["lapsed_devices"] == 0
    assert r["refused"] == 0 and r["peak_per_minute"] <= 80
    assert r["nextca_ok"] == 300
    # Under pkid's timers the next generation exists L + M before the
    # CA's end, and takes over issuance at L before it.
    g = pk["generations"][0]
    assert g["not_after"] - g["shadow_at"] == 607 * 86400
    assert g["not_after"] - g["activate_at"] == 600 * 86400


def test_simulate_deterministic_and_text():
    a = simulate("--timers", "pkid", "--devices", "500", "--seed", "5")
    b = simulate("--timers", "pkid", "--devices", "500", "--seed", "5")
    assert a["results"] == b["results"]
    cp = pkictl("ca", "plan", "--simulate", "--timers", "ios", "--devices",
                "50", "--years", "6", check=True)
    assert "GetNextCACert answered 404" in cp.stdout
    assert "pkid would refuse these timers: rollover-overlap-too-short" \
        in cp.stdout
    assert re.search(r"ran in \d+\.\d\d s", cp.stdout)


def test_simulate_timers_file(tmp_path):
    ini = tmp_path / "t.ini"
    ini.write_text("[timers]\nname = short\nca_lifetime = 400d\n"
                   "leaf_lifetime = 90d\nserver_per_min = 5\n")
    v = simulate("--timers", ini, "--devices", "100", "--years", "2")
    assert v["timers"] == "short"
    assert v["results"]["nextca_404"] == 0
    assert v["generations"][0]["not_after"] - \
        v["generations"][0]["shadow_at"] == 97 * 86400
    ini.write_text("[timers]\ncolour = blue\n")
    cp = pkictl("ca", "plan", "--simulate", "--timers", ini)
    assert cp.returncode == 2 and error_code(cp) == "config-unknown-key"
    cp = pkictl("ca", "plan", "--simulate", "--timers", tmp_path / "none")
    assert cp.returncode == 1 and error_code(cp) == "io-open"


def test_plan_usage(ca, tmp_path):
    cp = pkictl("ca", "plan", "--simulate", "--svg", tmp_path / "x.svg")
    assert cp.returncode == 2 and error_code(cp) == "usage"
    cp = pkictl("ca", "plan", "--simulate", "--devices", "0")
    assert cp.returncode == 2 and error_code(cp) == "usage"
    cp = pkictl("ca", "plan", "--dir", tmp_path / "none")
    assert cp.returncode == 2 and error_code(cp) == "ca-missing"
    cp = pkictl("ca", "plan", "--dir", ca, "--bogus")
    assert cp.returncode == 2 and error_code(cp) == "usage"


def test_plan_after_rollover(ca, tmp_path):
    """Once the CA made its next generation (pkictl ca rollover), the plan
    draws it from the store: made when it was, taking over when it is
    scheduled to."""
    _, before = plan_json(ca)
    act = before["plan"]["activate_at"] - 30 * 86400
    when = datetime.datetime.fromtimestamp(act, datetime.timezone.utc)
    pkictl("ca", "rollover", "--dir", ca, "--activate-at",
           when.strftime("%Y-%m-%dT%H:%M:%SZ"), check=True)
    svg = tmp_path / "plan.svg"
    cp, v = plan_json(ca, "--svg", svg)
    assert cp.returncode == 0, cp.stderr
    shadow = [g for g in v["generations"] if g["state"] == "shadow"]
    assert len(shadow) == 1 and shadow[0]["generation"] == 2
    assert not [g for g in v["generations"] if g["state"] == "planned"]
    assert v["next"] == {"generation": 2, "state": "shadow",
                         "made_at": shadow[0]["not_before"],
                         "activate_at": act}
    root = ET.parse(svg).getroot()
    x, _, _ = axis_of(root)
    for ident, t in [("mark-shadow", shadow[0]["not_before"]),
                     ("mark-activate", act),
                     ("gen-issuing-2", shadow[0]["not_before"])]:
        el = root.find(f".//*[@id='{ident}']")
        assert int(el.get("data-t")) == t, ident
        assert abs(mark_x(el) - x(t)) < 0.01, ident
    assert [s["needs_next"] for s in v["samples"]] == \
        [s["renew"] >= act for s in v["samples"]]
    text = pkictl("ca", "plan", "--dir", ca, "--at", AT, check=True).stdout
    assert "issuing  2    shadow" in text
    assert "as scheduled (the store)" in text


def test_plan_at_changes_nothing(ca):
    """--at draws "today" later; it does not make a shadow due by then
    current (opening the CA at that time would)."""
    _, v = plan_json(ca)
    pkictl("ca", "rollover", "--dir", ca, check=True)
    later = v["plan"]["not_after"] - 86400
    when = datetime.datetime.fromtimestamp(later, datetime.timezone.utc)
    cp = pkictl("ca", "plan", "--dir", ca, "--json", "--at",
                when.strftime("%Y-%m-%dT%H:%M:%SZ"), check=True)
    assert json.loads(cp.stdout)["next"]["state"] == "shadow"
    shown = json.loads(pkictl("ca", "show", "--dir", ca, "--json",
                              check=True).stdout)
    assert "shadow" in json.dumps(shown)
