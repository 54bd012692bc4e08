"""bench.calls: the page's calls all succeed on a real server, and the table sums each call's
CPU over the server's processes and compares the engines."""

from bench import calls


def test_every_call_is_answered_and_costs_the_server_some_cpu():
    figures = calls.measure_engine("local", 3)
    assert set(figures) == {"GET /network", "GET /history", "GET /boundary (page)",
                            "POST /step", "PATCH /network", "GET /api/catalog"}
    for f in figures.values():
        assert f["wall_ms"] > 0
        assert set(f["cpu_ms"]) == {"replica"}  # the local engine: one process


def test_the_table_sums_the_processes_and_divides_ray_by_local():
    local = {"GET /history": {"wall_ms": 1.0, "cpu_ms": {"replica": 0.8}}}
    ray = {"GET /history": {"wall_ms": 5.0, "cpu_ms": {"replica": 2.0, "ray::Host": 2.0}}}
    text = calls.show({"local": local, "ray": ray})
    assert "CPU   0.80  (replica 0.80)" in text
    assert "CPU   4.00  (replica 2.00, ray::Host 2.00)" in text
    assert "GET /history         wall  5.00x  CPU  5.00x" in text
