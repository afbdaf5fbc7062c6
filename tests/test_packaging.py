"""The three dependency lists (pyproject, constraints.txt, environment.yml) and the commands agree."""
import re
import tomllib

from srlib.data.root import REPO_ROOT


def norm(name: str) -> str:
    return re.split(r"[<>=!~\[ ;]", name.strip())[0].lower().replace("_", "-")


def pyproject_packages() -> dict[str, str]:
    proj = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    reqs = proj["dependencies"] + [r for extra in proj["optional-dependencies"].values() for r in extra]
    return {norm(r): r for r in reqs}


def constraint_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[norm(name)] = version.strip()
    return pins


def environment_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO_ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s+- ([A-Za-z0-9_.\-]+)==(\S+)$", line)
        if m:
            pins[norm(m.group(1))] = m.group(2)
    return pins


def test_environment_yml_lists_the_same_packages_as_pyproject():
    assert set(environment_pins()) == set(pyproject_packages())


def test_pins_agree_and_satisfy_the_tested_ranges():
    from packaging.specifiers import SpecifierSet

    pins, env = constraint_pins(), environment_pins()
    for name, req in pyproject_packages().items():
        assert name in pins, f"{name} is not pinned in constraints.txt"
        assert env[name] == pins[name], f"{name}: environment.yml {env[name]} != constraints.txt {pins[name]}"
        spec = SpecifierSet(req[len(re.split(r'[<>=!~]', req)[0]):].strip())
        assert pins[name] in spec, f"{name}=={pins[name]} is outside pyproject's range {spec}"
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert "python=3.11" in (REPO_ROOT / "environment.yml").read_text()


def test_ci_runs_the_readme_test_command():
    readme = (REPO_ROOT / "README.md").read_text()
    assert "make test" in readme and "make course" in readme and "make lab" in readme
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()
    makefile = (REPO_ROOT / "Makefile").read_text()
    assert re.search(r"^test:.*\n\t.*pytest tests notebooks --nbval-lax", makefile, re.M)
    assert "-c constraints.txt" in makefile
