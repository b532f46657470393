"""Plugin discovery, the registry, and hyperparameter typing."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from hsiviewer.data.resources import shipped_plugins_dir
from hsiviewer.errors import PluginError
from hsiviewer.models import InputKind, ModelSpec, Registry, discovery, load_registry, register_model

SHIPPED = {"hybridsn", "mobilenet_v1", "mobilenet_v2", "mobilenet_v3", "se_resnet", "svm_rbf"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


TINY = """
from torch import nn
from hsiviewer.models import InputKind, register_model

@register_model("{name}", description="tiny test model", input_kind=InputKind.PATCH,
                defaults={{"patch_size": 5, "pca_components": 4, "width": 8}})
def build(in_bands, n_classes, patch_size, width):
    return nn.Sequential(nn.Conv2d(in_bands, width, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(width, n_classes))
"""


def write_plugin(folder: Path, filename: str, name: str = "tiny", body: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    path.write_text(TINY.format(name=name) if body is None else textwrap.dedent(body))
    return path


def load(*dirs, **kwargs) -> Registry:
    kwargs.setdefault("use_entry_points", False)
    kwargs.setdefault("include_user_dirs", False)
    return load_registry(extra_dirs=dirs, **kwargs)


def test_shipped_plugins_load_from_their_files():
    registry = load()
    assert SHIPPED <= set(registry.names())
    assert registry.errors == []
    assert str(shipped_plugins_dir()) in registry.folders
    for spec in registry:
        assert Path(spec.source).parent == shipped_plugins_dir()
        assert Path(spec.source).is_file()
    hybrid = registry.get("hybridsn")
    assert hybrid.input_kind is InputKind.CUBE and hybrid.dense and hybrid.framework == "torch"
    assert registry.get("svm_rbf").framework == "sklearn"
    assert registry.get("svm_rbf").input_kind == "spectrum"


def test_plugin_in_extra_dir_is_found_with_its_source(tmp_path):
    path = write_plugin(tmp_path / "mine", "tiny.py")
    write_plugin(tmp_path / "mine", "_private.py", name="hidden")
    registry = load(tmp_path / "mine")
    spec = registry.get("tiny")
    assert spec.source == str(path)
    assert "hidden" not in registry
    net = spec.build(4, 3)
    import torch

    assert net(torch.zeros(2, 4, 5, 5)).shape == (2, 3)


def test_plugin_path_environment_variable(tmp_path, monkeypatch):
    first = write_plugin(tmp_path / "a", "one.py", name="env_one")
    second = write_plugin(tmp_path / "b", "two.py", name="env_two")
    monkeypatch.setenv("HSIVIEWER_PLUGIN_PATH", f"{tmp_path / 'a'}{__import__('os').pathsep}{second}")
    registry = load()
    assert registry.get("env_one").source == str(first)
    assert registry.get("env_two").source == str(second)
    monkeypatch.setenv("HSIVIEWER_PLUGIN_PATH", str(tmp_path / "missing"))
    registry = load()
    assert any("does not exist" in e.message and "missing" in e.source for e in registry.errors)


def test_user_folder_follows_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    if sys.platform in ("win32", "darwin"):
        pytest.skip("XDG_DATA_HOME is used on Linux and other Unixes")
    folder = tmp_path / "hsiviewer" / "plugins"
    assert discovery.user_plugin_dir() == folder
    write_plugin(folder, "mine.py", name="from_user_dir")
    assert "from_user_dir" in load(include_user_dirs=True)
    assert "from_user_dir" not in load(include_user_dirs=False)


def test_broken_plugins_are_reported_and_the_others_load(tmp_path):
    folder = tmp_path / "p"
    write_plugin(folder, "a_good.py", name="good")
    bad_syntax = write_plugin(folder, "b_syntax.py", body="def broken(:\n    pass\n")
    bad_import = write_plugin(folder, "c_import.py", body="import no_such_module_for_hsiviewer\n")
    # Registers one model, then fails: the half-loaded plugin must register nothing.
    half = write_plugin(folder, "d_half.py", body=TINY.format(name="half") + "\nraise RuntimeError('boom')\n")
    bad_spec = write_plugin(
        folder,
        "e_spec.py",
        body="""
        from hsiviewer.models import register_model
        @register_model("nosize", description="x", input_kind="patch", defaults={"pca_components": 3})
        def build(in_bands, n_classes, patch_size):
            return None
        """,
    )
    registry = load(folder)
    assert "good" in registry and SHIPPED <= set(registry.names())
    assert "half" not in registry and "nosize" not in registry
    by_source = {e.source: e for e in registry.errors}
    assert set(by_source) == {str(bad_syntax), str(bad_import), str(half), str(bad_spec)}
    assert "syntax error at line 1" in by_source[str(bad_syntax)].message
    assert "SyntaxError" in by_source[str(bad_syntax)].traceback
    assert "ModuleNotFoundError" in by_source[str(bad_import)].message
    assert "no_such_module_for_hsiviewer" in by_source[str(bad_import)].traceback
    assert "boom" in by_source[str(half)].traceback and "d_half.py" in by_source[str(half)].traceback
    assert "patch_size" in by_source[str(bad_spec)].message


def test_duplicate_name_is_refused_and_the_first_wins(tmp_path):
    first = write_plugin(tmp_path / "x", "first.py", name="twin")
    second = write_plugin(tmp_path / "y", "second.py", name="twin")
    shadow = write_plugin(tmp_path / "y", "shadow.py", name="hybridsn")
    registry = load(tmp_path / "x", tmp_path / "y")
    assert registry.get("twin").source == str(first)
    assert Path(registry.get("hybridsn").source).parent == shipped_plugins_dir()
    messages = [e.message for e in registry.errors]
    assert len(messages) == 2
    twin = next(m for m in messages if "'twin'" in m)
    assert str(first) in twin and str(second) in twin
    assert any(str(shadow) in m and "hybridsn.py" in m for m in messages)


def test_entry_points_module_and_callable(tmp_path, monkeypatch):
    pkg = tmp_path / "site"
    write_plugin(pkg, "hsv_ep_module.py", name="ep_module")
    write_plugin(
        pkg,
        "hsv_ep_callable.py",
        body="""
        from hsiviewer.models import register_model
        def register():
            @register_model("ep_callable", description="from a function", input_kind="spectrum",
                            framework="sklearn", defaults={"patch_size": 1, "pca_components": None})
            def build(in_bands, n_classes, patch_size):
                from sklearn.neighbors import KNeighborsClassifier
                return KNeighborsClassifier(1)
        """,
    )
    write_plugin(pkg, "hsv_ep_broken.py", body="raise ValueError('bad entry point')\n")
    info = pkg / "hsv_ep_demo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hsv-ep-demo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[hsiviewer.models]\nmod = hsv_ep_module\nfn = hsv_ep_callable:register\nbroken = hsv_ep_broken\n"
    )
    monkeypatch.syspath_prepend(str(pkg))
    for _ in range(2):  # the second load finds the already-imported module's specs on its builders
        registry = load(use_entry_points=True)
        assert registry.get("ep_module").source == "entry point mod"
        assert registry.get("ep_callable").source == "entry point fn"
        assert [e.source for e in registry.errors] == ["entry point broken"]
        assert "bad entry point" in registry.errors[0].traceback
    for name in ("hsv_ep_module", "hsv_ep_callable", "hsv_ep_broken"):
        monkeypatch.delitem(sys.modules, name, raising=False)


def test_get_unknown_model_names_the_known_ones():
    with pytest.raises(PluginError, match="unknown model 'nope'.*hybridsn.*svm_rbf"):
        load().get("nope")


def spec_with(defaults: dict) -> ModelSpec:
    return ModelSpec(
        name="demo",
        description="d",
        input_kind=InputKind.PATCH,
        builder=lambda *a, **k: (a, k),
        defaults={"patch_size": 9, "pca_components": 30, **defaults},
    )


def test_coerce_types_text_like_the_defaults():
    spec = spec_with({"dropout": 0.4, "depth": 3, "bn": True, "gamma": "scale", "extra": None})
    assert spec.coerce("dropout", "0.5") == 0.5 and isinstance(spec.coerce("dropout", "1"), float)
    assert spec.coerce("depth", "7") == 7 and spec.coerce("depth", "7.0") == 7
    assert spec.coerce("bn", "false") is False and spec.coerce("bn", "Yes") is True
    assert spec.coerce("pca_components", "none") is None and spec.coerce("pca_components", "12") == 12
    assert spec.coerce("gamma", "auto") == "auto" and spec.coerce("gamma", "0.01") == 0.01
    assert spec.coerce("extra", "null") is None and spec.coerce("extra", "3") == 3
    assert spec.coerce({"depth": "2", "dropout": 0.1}) == {"depth": 2, "dropout": 0.1}
    with pytest.raises(PluginError, match="'depth' expects a whole number, got '2.5'"):
        spec.coerce("depth", "2.5")
    with pytest.raises(PluginError, match="'bn' expects true or false"):
        spec.coerce("bn", "maybe")
    with pytest.raises(PluginError, match="'dropout' expects a number"):
        spec.coerce("dropout", "lots")
    with pytest.raises(PluginError, match="'depth' cannot be None"):
        spec.coerce("depth", None)
    with pytest.raises(PluginError, match="no hyperparameter 'dropuot' \\(did you mean 'dropout'\\?\\).*valid ones"):
        spec.coerce("dropuot", "1")


def test_build_merges_defaults_and_refuses_unknown_names():
    spec = spec_with({"dropout": 0.4})
    args, kwargs = spec.build(30, 5)
    assert args == (30, 5, 9) and kwargs == {"dropout": 0.4}
    args, kwargs = spec.build(20, 4, patch_size=11, dropout="0.1", pca_components=20)
    assert args == (20, 4, 11) and kwargs == {"dropout": 0.1}
    with pytest.raises(PluginError, match="no hyperparameter 'depth'.*dropout, patch_size, pca_components"):
        spec.build(30, 5, depth=3)
    with pytest.raises(PluginError, match="patch_size must be a whole number >= 1"):
        spec.build(30, 5, patch_size=0)
    assert spec.resolve({"dropout": "0.2"}) == {"patch_size": 9, "pca_components": 30, "dropout": 0.2}


def test_check_builds_and_runs_each_model(tmp_path):
    write_plugin(
        tmp_path,
        "bad_shape.py",
        body="""
        from torch import nn
        from hsiviewer.models import register_model
        @register_model("bad_shape", description="wrong output", input_kind="spectrum",
                        defaults={"patch_size": 1, "pca_components": 6})
        def build(in_bands, n_classes, patch_size):
            return nn.Linear(in_bands, n_classes + 1)
        """,
    )
    registry = load(tmp_path)
    assert registry.errors == []
    assert registry.check("svm_rbf") is None and registry.check("mobilenet_v1") is None
    error = registry.check("bad_shape")
    assert error is not None and "output shape (2, 4), expected (2, 3)" in error.message
    assert "PluginError" in error.traceback
    assert registry.check("bad_shape") is error and registry.errors == [error]


def test_register_outside_loading_goes_to_the_default_registry(monkeypatch):
    from hsiviewer.models import registry as registry_module

    monkeypatch.setattr(discovery, "_DEFAULT", None)
    monkeypatch.setattr(registry_module, "_OUTSIDE", {})
    monkeypatch.setattr(registry_module, "_DEFAULT_HOLDER", [])

    @register_model(
        "notebook_model",
        description="defined in a notebook",
        input_kind=InputKind.SPECTRUM,
        framework="sklearn",
        defaults={"patch_size": 1, "pca_components": 5},
    )
    def build(in_bands, n_classes, patch_size):
        from sklearn.neighbors import KNeighborsClassifier

        return KNeighborsClassifier(1)

    registry = discovery.default_registry()
    assert registry.get("notebook_model").builder is build
    assert build.hsiviewer_spec.source == __file__
    with pytest.raises(PluginError, match="already registered by .*hybridsn.py"):
        register_model(
            "hybridsn", description="x", input_kind="spectrum", defaults={"patch_size": 1, "pca_components": 5}
        )(build)
