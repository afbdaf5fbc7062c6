"""Figures of training histories."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from srlib.viz import GAN_PANELS, LivePlot, plot_history, smooth  # noqa: E402


def gan_history(n=60):
    rows = [{"step": i, "loss_pixel": 0.05 - i * 1e-4, "loss_adversarial": 0.004, "loss_d": 1.3, "d_real": 0.6, "d_fake": 0.4,
             "lr_g": 1e-4} for i in range(n)]
    rows[-1]["val_psnr"] = 29.5
    return rows


def test_smooth_is_a_running_mean():
    assert np.allclose(smooth([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    assert np.allclose(smooth([5.0], 10), [5.0])


def test_plot_history_draws_one_panel_per_kind_and_skips_empty_ones():
    fig = plot_history(gan_history())
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [p[0] for p in GAN_PANELS]
    labels = {line.get_label() for ax in fig.axes for line in ax.lines if not line.get_label().startswith("_")}
    assert labels == {"loss_pixel", "loss_adversarial", "loss_d", "d_real", "d_fake", "val_psnr"}  # not lr_g
    g_panel = {line.get_label() for line in fig.axes[0].lines if not line.get_label().startswith("_")}
    assert g_panel == {"loss_pixel", "loss_adversarial"}  # D's loss goes to D's panel
    psnr_only = plot_history([{"step": 0, "loss_pixel": 0.1}], panels=GAN_PANELS)
    assert [ax.get_title() for ax in psnr_only.axes] == ["generator loss terms"]
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_history([{"step": 0, "lr_g": 1.0}])


def test_live_plot_keeps_every_value_outside_jupyter():
    live = LivePlot.for_gan(every=10)
    assert not live.enabled  # no kernel here: nothing is displayed
    for row in gan_history(30):
        live.update(row["step"], **{k: v for k, v in row.items() if k != "step"})
    live.close()
    assert live.steps == list(range(30)) and live.values["d_real"] == [0.6] * 30
    assert len(live.figure().axes) == 3
