"""The table `make bench` and `make bench-faults` end with (bench.goals): each goal met or missed, a section only
for what the run measured, and an exit code that fails the make target when a fault campaign lost or repeated
something (a missed ratio is a figure to report, not a failure)."""
from bench import goals


def table(tmp_path, monkeypatch, capsys, record):
    monkeypatch.setenv("AOS_BENCH_FIGURES", str(tmp_path / "figures.jsonl"))
    record()
    code = goals.main()
    return code, capsys.readouterr().out


def test_a_benchmark_run_shows_every_goal_met_or_missed_and_what_was_not_measured(tmp_path, monkeypatch, capsys):
    def record():
        goals.ratio("purchase CPU ms", 32.3)
        goals.ratio("me / ping rate", 0.84)
        goals.capacity("SQLite, 1 replica(s) of each service", 40, 2, False)
    code, out = table(tmp_path, monkeypatch, capsys, record)
    assert code == 0
    assert "MISSED    32.30  goal < 10" in out and "met        0.84  goal >= 0.8" in out
    assert "(not measured in this run)" in out  # the AIR goals: their bench did not run
    assert "40  workshops, 20.0 per core (2 cores): SQLite" in out
    assert "2 of 14 goals measured, 1 missed: purchase CPU ms; 0 fault campaign(s) failed" in out
    assert "Fault campaigns" not in out


def test_a_fault_campaign_run_shows_its_campaigns_alone_and_fails_when_one_failed(tmp_path, monkeypatch, capsys):
    def record():
        goals.campaign("Webhooks: a partner's receiver down 300 s", {"received": 800, "received twice": 0}, True)
        goals.campaign("Shop fault campaign", {"stock left": -1}, False)
    code, out = table(tmp_path, monkeypatch, capsys, record)
    assert code == 1
    assert "YES     Webhooks: a partner's receiver down 300 s" in out and "received twice 0" in out
    assert "FAILED  Shop fault campaign" in out
    assert "goals measured" not in out and "goal <" not in out and "Capacity" not in out
    assert out.rstrip().endswith("1 fault campaign(s) failed")
