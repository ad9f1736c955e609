"""``initscape sbm fit`` and ``initscape sbm datasets`` through click's CliRunner."""

import csv
import json
import re

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from initscape.cli import main
from initscape.cli.sbm import parse_block_probs
from initscape.sbm import load_network


def run(*args):
    return CliRunner().invoke(main, ["sbm", *args], catch_exceptions=False)


def fit_json(*args):
    result = run("fit", "--json", "--no-progress", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ------------------------------------------------------------------- fitting


def test_default_run_is_football_with_its_twelve_conferences():
    out = fit_json("--n-init", "5")
    assert out["network"]["name"] == "football"
    assert (out["network"]["nodes"], out["network"]["edges"]) == (115, 613)
    assert out["blocks"] == 12 and sum(out["sizes"]) == 115
    assert np.asarray(out["block_probs"]).shape == (12, 12)
    # proportions are a distribution; 1e-9 allows float summation round-off
    assert sum(out["block_proportions"]) == pytest.approx(1.0, abs=1e-9)
    assert out["settings"] == {
        "init": "spectral",
        "n_init": 5,
        "seed": 0,
        "algorithm": "bcavi",
        "max_iter": 500,
        "tol": 1e-8,
        "block_probs": "estimated",
    }
    assert out["restarts"]["n"] == 5
    # Issue 6 reports NMI 0.92 for graph-tool and R's blockmodels on football;
    # the default run must show a fit of that class (0.85 leaves room for a
    # different but equally good local optimum).
    assert out["agreement"]["classes"] == 12
    assert out["agreement"]["nmi"] >= 0.85


def test_labels_file_and_scores_agree_with_sklearn(tmp_path):
    labels_path = tmp_path / "labels.csv"
    out = fit_json("--dataset", "karate", "--n-init", "5", "--output", str(labels_path))
    with open(labels_path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["node", "label"]
    assert [r[0] for r in rows[1:]] == [str(i) for i in range(34)]
    fitted = np.array([int(r[1]) for r in rows[1:]])
    assert np.bincount(fitted, minlength=2).tolist() == out["sizes"]
    truth = load_network("karate").labels
    # scikit-learn scores the written labels independently of initscape
    assert out["agreement"]["ari"] == pytest.approx(adjusted_rand_score(truth, fitted))
    assert out["agreement"]["nmi"] == pytest.approx(
        normalized_mutual_info_score(truth, fitted)
    )
    assert out["output"] == str(labels_path)


def test_readable_summary_lists_every_number():
    result = run("fit", "--dataset", "karate", "--n-init", "3", "--no-progress")
    assert result.exit_code == 0, result.output
    for word in (
        "network      karate (undirected, 34 nodes, 78 edges)",
        "blocks       2",
        "sizes",
        "prior        0.500 0.500 (fixed)",
        "connectivity",
        "ELBO",
        "iterations",
        "converged",
        "seconds",
        "restarts     3",
        "vs labels    ARI",
        "NMI",
        "overlap",
    ):
        assert word in result.stdout


def test_same_seed_same_output():
    first = fit_json("--dataset", "football", "--n-init", "4", "--seed", "3")
    again = fit_json("--dataset", "football", "--n-init", "4", "--seed", "3")
    for key in ("sizes", "block_probs", "elbo", "n_iter", "agreement"):
        assert first[key] == again[key]
    assert first["blocks"] == 12


def test_progress_bar_follows_the_iterations():
    result = CliRunner().invoke(
        main, ["sbm", "fit", "--dataset", "karate", "--n-init", "2", "--json"]
    )
    assert result.exit_code == 0
    # the bar is drawn on stderr only, so stdout stays one JSON object
    assert "fit karate" in result.stderr
    n_iter = json.loads(result.stdout)["n_iter"]
    assert f"{n_iter}/500" in result.stderr


def test_known_block_probs_are_held_fixed():
    out = fit_json("--dataset", "karate", "--block-probs", "0.3,0.05", "--n-init", "3")
    probs = np.asarray(out["block_probs"])
    # known parameters are returned as given (up to the order of the blocks)
    assert sorted(probs.ravel().tolist()) == [0.05, 0.05, 0.3, 0.3]
    assert out["settings"]["block_probs"] == "known"


def test_fit_a_user_file_with_labels(tmp_path):
    # Two cliques of six joined by one edge: any sensible fit finds them.
    graph = nx.barbell_graph(6, 0)
    for i in graph:
        graph.nodes[i]["side"] = int(i >= 6)
    path = tmp_path / "barbell.graphml"
    nx.write_graphml(graph, path)
    out = fit_json(str(path), "--label-property", "side", "--n-init", "10")
    assert out["network"]["nodes"] == 12 and out["blocks"] == 2
    assert out["agreement"]["ari"] == pytest.approx(1.0)


def test_directed_edge_list(tmp_path):
    path = tmp_path / "arcs.txt"
    path.write_text("a b\nb c\nc a\nd e\ne f\nf d\nc d\n")
    out = fit_json(str(path), "--directed", "--n-init", "3")
    assert out["network"]["directed"] is True and out["network"]["edges"] == 7
    undirected = fit_json(str(path), "--n-init", "3")
    assert undirected["network"]["directed"] is False
    result = run("fit", str(tmp_path / "arcs.txt"), "--no-progress", "--directed")
    assert result.exit_code == 0
    # --directed on a format that states it is an error from the reader
    gml = tmp_path / "g.gml"
    nx.write_gml(nx.path_graph(3), gml)
    result = CliRunner().invoke(main, ["sbm", "fit", str(gml), "--directed"])
    assert result.exit_code == 1
    assert "directed can only be set for edge lists" in result.output


def test_directed_polblogs_runs():
    out = fit_json("--dataset", "polblogs", "--n-init", "2", "--max-iter", "20")
    assert out["network"]["directed"] is True and out["blocks"] == 2
    assert sum(out["sizes"]) == 1490


def test_datasets_command():
    result = run("datasets", "--json")
    assert result.exit_code == 0
    names = [row["name"] for row in json.loads(result.stdout)["networks"]]
    assert "polblogs-lcc" in names and "karate" in names
    text = run("datasets").stdout
    assert "polblogs-lcc     1222   16714  no       2" in text


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (["--dataset", "nope"], r"Invalid value for '--dataset': must be one of "),
        (["--blocks", "200"], "must be at most the number of nodes .115.; got 200"),
        (["--block-probs", "0.3"], "must be 'p,q' .two numbers. or a K x K JSON"),
        (["--block-probs", "0.3,1.2"], "strictly between 0 and 1; got '1.2'"),
        (["--block-probs", "[[0.3, 0.1]]"], "square K x K JSON list of lists"),
        (["--block-probs", "[[0.3, 0.1"], "must be 'p,q' or a K x K JSON list"),
        (
            ["--blocks", "3", "--block-probs", "0.3,0.1"],
            "'p,q' describes two blocks; got --blocks 3",
        ),
        (
            ["--blocks", "3", "--block-probs", "[[0.3,0.1],[0.1,0.3]]"],
            "must be a 3 x 3 matrix to match --blocks 3; got 2 x 2",
        ),
        (["--label-property", "x"], "'--label-property': applies to PATH only"),
        (["--blocks", "0"], "0 is not in the range x>=1"),
        (["--tol", "0"], "'--tol': 0.0 is not in the range x>0"),
        (["--directed"], "'--directed': applies to an edge list PATH only"),
        (["--tol", "nan"], "'--tol': must be a finite number; got nan"),
        (
            ["--algorithm", "cavi", "--blocks", "3"],
            "'--algorithm': 'cavi' needs two blocks .*; got --blocks 3",
        ),
        (
            ["--dataset", "karate", "-o", "/nonexistent/dir/x.csv"],
            "'--output': the folder '/nonexistent/dir' does not exist",
        ),
        (["--dataset", "karate", "-o", ""], "'--output': must be the path of a file"),
        (
            ["--dataset", "karate", "-o", "/dev/full"],
            "'--output': cannot write the labels to '/dev/full': No space left",
        ),
    ],
)
def test_bad_options_name_the_option(args, match):
    result = CliRunner().invoke(main, ["sbm", "fit", "--no-progress", *args])
    assert result.exit_code == 2
    assert re.search(match, result.output), result.output


def test_path_and_dataset_together_is_an_error(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("0 1\n")
    result = CliRunner().invoke(main, ["sbm", "fit", str(path), "--dataset", "karate"])
    assert result.exit_code == 2
    assert "Give either PATH or --dataset, not both." in result.output


def test_unreadable_file_is_a_clean_error(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("0 1 2 3\n")
    result = CliRunner().invoke(main, ["sbm", "fit", str(path), "--no-progress"])
    assert result.exit_code == 1
    assert "line 1: an edge list line must hold" in result.output


def test_parse_block_probs():
    assert parse_block_probs("0.3, 0.05", None) == [[0.3, 0.05], [0.05, 0.3]]
    assert parse_block_probs("[[0.5,0.1,0.1],[0.1,0.5,0.1],[0.1,0.1,0.5]]", 3)[1] == [
        0.1,
        0.5,
        0.1,
    ]
    with pytest.raises(Exception, match="strictly between 0 and 1; got True"):
        parse_block_probs("[[true, 0.1], [0.1, 0.5]]", None)


def test_truncated_and_empty_files_are_clean_errors(tmp_path):
    import gzip

    truncated = tmp_path / "t.txt.gz"
    full = gzip.compress(b"1 2\n" * 1000)
    truncated.write_bytes(full[: len(full) // 2])
    empty = tmp_path / "e.txt"
    empty.write_text("# only a comment\n")
    for path, match in [
        (truncated, r"Error: path '.*t\.txt\.gz' is a truncated or corrupt gzip"),
        (empty, r"Error: path '.*e\.txt': the graph has no nodes"),
    ]:
        result = CliRunner().invoke(main, ["sbm", "fit", str(path), "--no-progress"])
        assert result.exit_code == 1
        assert re.search(match, result.output), result.output
        assert "Aborted" not in result.output


def test_fixed_prior_is_labelled_as_such():
    # The two-class engine holds the prior at 1/2; three blocks fit proportions.
    text = run("fit", "--dataset", "karate", "--no-progress").stdout
    assert "prior        0.500 0.500 (fixed)" in text and "proportions" not in text
    assert fit_json("--dataset", "karate")["proportions_estimated"] is False
    three = fit_json("--dataset", "karate", "--blocks", "3")
    assert three["proportions_estimated"] is True
    sizes = np.array(three["sizes"]) / 34
    # 0.1: soft responsibilities versus hard argmax sizes on 34 nodes
    np.testing.assert_allclose(three["block_proportions"], sizes, atol=0.1)


def test_agreement_on_linked_nodes_leaves_out_isolated_ones(tmp_path):
    # Two triangles plus two isolated nodes; labels follow the triangles, and the
    # isolated nodes carry the labels a fit cannot infer.
    graph = nx.Graph([(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)])
    graph.add_nodes_from([6, 7])
    for i in graph:
        graph.nodes[i]["side"] = int(i >= 3) if i < 6 else i - 6
    path = tmp_path / "triangles.graphml"
    nx.write_graphml(graph, path)
    out = fit_json(str(path), "--label-property", "side", "--n-init", "5")
    linked = out["agreement_linked"]
    assert linked["nodes"] == 6
    # the two triangles are found exactly: 6 of 6 linked nodes agree
    assert linked["overlap"] == 1.0


def test_no_linked_line_when_every_node_has_an_edge():
    out = fit_json("--dataset", "karate", "--n-init", "2")
    assert "agreement_linked" not in out


def test_output_below_a_file_names_it(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = CliRunner().invoke(
        main, ["sbm", "fit", "--dataset", "karate", "-o", str(blocker / "x.csv")]
    )
    assert result.exit_code == 2
    assert f"the folder '{blocker}' is not a folder" in result.output
