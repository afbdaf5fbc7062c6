from srlib.exercises import nb00


def test_lr_pixels_per_hr_pixel(capsys):
    assert nb00.check_lr_pixels_per_hr_pixel(16)
    assert not nb00.check_lr_pixels_per_hr_pixel(4)
    assert not nb00.check_lr_pixels_per_hr_pixel(None)
    assert "per axis" in capsys.readouterr().out


def test_lr_size():
    assert nb00.lr_size(510, 340) == (128, 85)
    assert nb00.check_lr_size((128, 85))
    assert not nb00.check_lr_size((127, 85))
    assert not nb00.check_lr_size((85, 128))
    assert not nb00.check_lr_size("big")
