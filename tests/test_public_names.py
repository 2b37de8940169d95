"Every public name (shared/ARCHITECTURE.md's list) imports from `deepmotif`, and names that moved or were renamed still import from where they were."
import importlib, subprocess, sys
import pytest

PUBLIC = '''read_sequences iter_sequences SeqData one_hot decode dinucleotide_shuffle synthetic_dataset train_valid_split
read_intervals Genome genome_dataset read_variants build_model CNN RNN CNNRNN save_model load_model fit evaluate predict
saliency temporal_scores optimize_input ism integrated_gradients deeplift marginalize space ablate variant_effects
find_motifs match_motifs seqlets filter_motifs read_motifs write_motifs plot_logo plot_saliency plot_temporal Dashboard
ATTRIBUTIONS'''.split()

FORMER_HOMES = [  # (module, name): names that moved, importable from their former module as before
    ('deepmotif.motifs', 'motifs_command'), ('deepmotif.grammar', 'spacing_report'), ('deepmotif.commands', 'load_checked'),
    ('deepmotif.commands', 'EXPLAIN_METHODS'), ('deepmotif.cli', 'EXPLAIN_METHODS'), ('deepmotif.cli', 'open_scores'),
    ('deepmotif.saliency', 'KINDS'), ('deepmotif.attribution', 'ATTRIBUTIONS'), ('deepmotif.attribution', 'attribution_method'),
    ('deepmotif.variants', 'variants_to_tsv'), ('deepmotif.scan', 'scan_to_track'), ('deepmotif.dashboard', 'MotifPanel'),
    ('deepmotif.data', 'DeepMotifError'), ('deepmotif.models', 'evaluating'), ('deepmotif.temporal', 'VARIANTS'),
    ('deepmotif.views', 'is_recurrent'), ('deepmotif.dashboard', 'is_recurrent'),
]

NEW = [('deepmotif.core', n) for n in 'check_target target_index check_batch_size check_output batched_logits model_length read_text'.split()] + [
    ('deepmotif.genome', n) for n in 'peaks_on_genome data_chunks read_data'.split()] + [
    ('deepmotif.distributed', 'write_on_main'), ('deepmotif.attribution', 'ATTRIBUTION_METHODS'), ('deepmotif.attribution', 'method_name'),
    ('deepmotif.views', 'MENU'), ('deepmotif.saliency', 'saliency_kind'), ('deepmotif.core', 'former'), ('deepmotif.core', 'is_recurrent'),
    ('deepmotif.temporal', 'CUTS'), ('deepmotif.optimize', 'optimize_method'), ('deepmotif.plots', 'SCALES')] + [
    ('deepmotif.core', n) for n in 'task_names cli_target n_outputs one_target'.split()] + [
    ('deepmotif.adapters', 'PickOutput'), ('deepmotif.adapters', 'ProfileOutput'), ('deepmotif.models', 'resolve_class'),
    ('deepmotif.data', 'multitask_dataset'), ('deepmotif.genome', 'centre_labels'), ('deepmotif.benchmark', 'benchmark_multitask'),
    ('deepmotif.benchmark', 'multitask_table'), ('deepmotif.dashboard', 'WatchLearning'), ('deepmotif.learning', 'learning_snapshot'),
    ('deepmotif.learning', 'learning_png'), ('deepmotif.train', 'chance_note'), ('deepmotif.train', 'CHANCE_AUROC'), ('deepmotif.render', 'OverviewFigure'), ('deepmotif.render', 'label_from')] + [
    ('deepmotif.views', n) for n in 'check_region region_of ZOOM_FROM ZOOM_WIDTH targeting regioned outputs_of'.split()] + [
    ('deepmotif.commands', n) for n in 'motifs_command spacing_report variants_command scan_command pretrained_demo_command pretrained_command'.split()] + [
    ('deepmotif.models', n) for n in 'model_folder pretrained_root pretrained_names PRETRAINED_PREFIX'.split()] + [
    ('deepmotif.zoo', n) for n in 'pretrained load_pretrained pretrained_sample Cards CARDS_FORMAT split_dataset_name'.split()] + [
    ('deepmotif.fastism', n) for n in 'layer_plan LayerPlan ism_layers take_columns off_sequence'.split()] + [
    ('deepmotif.grammar', 'spacing_response'), ('deepmotif.dashboard', 'under_jupyter_server'), ('deepmotif.render', 'DRAWING')]


def test_public_names_import_from_the_package():
    import deepmotif
    missing = [n for n in PUBLIC + ['benchmark_multitask', 'centre_labels', 'WatchLearning', 'pretrained', 'load_pretrained', 'pretrained_sample']
               if not hasattr(deepmotif, n)]
    assert not missing, missing


@pytest.mark.parametrize('module, name', FORMER_HOMES + NEW, ids=[f'{m}.{n}' for m, n in FORMER_HOMES + NEW])
def test_names_import_from_their_modules(module, name):
    assert getattr(importlib.import_module(module), name) is not None


def test_moved_commands_are_the_same_objects():
    import deepmotif.commands, deepmotif.motifs, deepmotif.grammar
    assert deepmotif.motifs.motifs_command is deepmotif.commands.motifs_command
    assert deepmotif.grammar.spacing_report is deepmotif.commands.spacing_report
    with pytest.raises(AttributeError, match='no attribute'): deepmotif.motifs.no_such_name


def test_import_stays_light():
    "`import deepmotif` loads no widgets, no pyplot and not the command modules."
    code = 'import sys, deepmotif; print(sorted(m for m in ("ipywidgets", "matplotlib.pyplot", "deepmotif.commands") if m in sys.modules))'
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == '[]', out
