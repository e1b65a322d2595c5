"""Section 7.3 ablation of the seed paper: only the encoded, Heaviside-before-aggregation step is exact."""
from nar.exact.experiments import ablation


def test_only_the_main_variant_floods_exactly_on_complete_graphs():
    res = ablation(n_values=range(3, 5), steps=40)
    main = res["main (encoded, H before aggregation)"]
    assert main == [1.0, 1.0]
    for name in ("unencoded", "no H", "unencoded, H after aggregation"):
        assert max(res[name]) < 1.0, (name, res[name])
