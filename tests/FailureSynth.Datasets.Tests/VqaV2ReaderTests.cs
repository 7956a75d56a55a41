using System.Text.Json.Nodes;
using FailureSynth.Datasets;

namespace FailureSynth.Datasets.Tests;

public sealed class VqaV2ReaderTests
{
    private static void AssertOfficialSamples(LoadedDataset dataset)
    {
        Assert.Equal("vqav2", dataset.Format);
        Assert.Equal(["262148000", "262148001", "393225000", "393225001"], dataset.Samples.Select(s => s.Id));
        var first = dataset.Samples[0];
        Assert.Equal("Where is he looking?", first.Question);
        Assert.Equal("down", first.Answer);
        Assert.Equal("val2014/COCO_val2014_000000262148.jpg", first.Image);
        Assert.Equal("val2014", first.Split);
        Assert.Equal("other", first.Family);
        Assert.Equal("vqav2", first.Source);
        Assert.Equal(10, first.AllAnswers!.Count);
        Assert.Equal("at table", first.AllAnswers[2]);
        Assert.Equal("yes/no", dataset.Samples[2].Family);
        Assert.Equal("2", dataset.Samples[3].Answer);
        Assert.Empty(dataset.Warnings);
    }

    [Fact]
    public void Official_folder_loads_joined_by_question_id()
    {
        using var folder = new TempFolder();
        Fixtures.WriteVqa(folder);

        AssertOfficialSamples(DatasetReader.Load(folder.Path));
    }

    [Fact]
    public void Questions_file_finds_its_annotations_beside_it_by_official_name()
    {
        using var folder = new TempFolder();
        var (questions, annotations) = Fixtures.WriteVqa(folder);
        // A second pair in the same folder: pairing must go by name, not by "the only annotations file".
        folder.Write("v2_OpenEnded_mscoco_train2014_questions.json", new JsonObject());
        folder.Write("v2_mscoco_train2014_annotations.json", new JsonObject());

        AssertOfficialSamples(DatasetReader.Load(questions));
        AssertOfficialSamples(DatasetReader.Load(annotations));
        AssertOfficialSamples(DatasetReader.LoadVqaV2(questions, annotations));
    }

    [Fact]
    public void Annotations_are_joined_by_id_not_by_position()
    {
        using var folder = new TempFolder();
        var annotations = Fixtures.VqaAnnotations();
        var list = annotations["annotations"]!.AsArray();
        var last = list[3]!;
        list.RemoveAt(3);
        list.Insert(0, last);
        var (questions, _) = Fixtures.WriteVqa(folder, annotations: annotations);

        AssertOfficialSamples(DatasetReader.Load(questions));
    }

    [Fact]
    public void Question_without_annotation_is_an_error_naming_the_question_id()
    {
        using var folder = new TempFolder();
        var annotations = Fixtures.VqaAnnotations();
        annotations["annotations"]!.AsArray().RemoveAt(1);
        var (questions, _) = Fixtures.WriteVqa(folder, annotations: annotations);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(folder.Path));

        Assert.Equal(questions, error.File);
        Assert.Equal("question 1 (question_id 262148001)", error.Record);
        Assert.Equal(1, error.RecordIndex);
        Assert.Equal("262148001", error.RecordId);
        Assert.Equal("question_id", error.Field);
        Assert.StartsWith(
            $"{Fixtures.VqaQuestionsName} (VQA v2): question 1 (question_id 262148001): field \"question_id\": question_id 262148001 has no annotation in {Fixtures.VqaAnnotationsName}",
            error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Annotation_without_question_is_an_error_naming_the_question_id()
    {
        using var folder = new TempFolder();
        var questions = Fixtures.VqaQuestions();
        questions["questions"]!.AsArray().RemoveAt(2);
        var (_, annotations) = Fixtures.WriteVqa(folder, questions);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(folder.Path));

        Assert.Equal(annotations, error.File);
        Assert.Equal(2, error.RecordIndex);
        Assert.Equal("393225000", error.RecordId);
        Assert.Equal("question_id", error.Field);
        Assert.Contains("has an annotation but no question", error.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, bool, int?, string, string> Corruptions() => new()
    {
        // corruption, in the annotations file?, record index, field, message fragment
        { "question_id is a string", false, 1, "question_id", "expected an integer, found a string" },
        { "question missing", false, 3, "question", "missing" },
        { "duplicate question_id", false, 3, "question_id", "already used by question 2" },
        { "multiple_choice_answer missing", true, 0, "multiple_choice_answer", "missing" },
        { "answer is a number", true, 2, "answers[3].answer", "expected a string, found a number" },
        { "answers not a list", true, 1, "answers", "expected an array, found a string" },
        { "image_id disagrees", true, 3, "image_id", "is about image 393225" },
        { "second annotation", true, 3, "question_id", "annotation 0 already answers it" },
    };

    [Theory]
    [MemberData(nameof(Corruptions))]
    public void Broken_vqa_copy_fails_at_the_precise_record_and_field(string corruption, bool inAnnotations, int? record, string field, string fragment)
    {
        using var folder = new TempFolder();
        var questions = Fixtures.VqaQuestions();
        var annotations = Fixtures.VqaAnnotations();
        var q = questions["questions"]!.AsArray();
        var a = annotations["annotations"]!.AsArray();
        switch (corruption)
        {
            case "question_id is a string": q[1]!["question_id"] = "262148001"; break;
            case "question missing": q[3]!.AsObject().Remove("question"); break;
            case "duplicate question_id": q[3]!["question_id"] = 393225000; break;
            case "multiple_choice_answer missing": a[0]!.AsObject().Remove("multiple_choice_answer"); break;
            case "answer is a number": a[2]!["answers"]![3]!["answer"] = 3; break;
            case "answers not a list": a[1]!["answers"] = "watching"; break;
            case "image_id disagrees": a[3]!["image_id"] = 1; break;
            case "second annotation": a[3]!["question_id"] = 262148000; break;
            default: throw new ArgumentOutOfRangeException(nameof(corruption), corruption, null);
        }

        var (questionsPath, annotationsPath) = Fixtures.WriteVqa(folder, questions, annotations);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(questionsPath));

        Assert.Equal(inAnnotations ? annotationsPath : questionsPath, error.File);
        Assert.Equal(record, error.RecordIndex);
        Assert.Equal(field, error.Field);
        Assert.Contains(fragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Files_of_different_splits_are_refused()
    {
        using var folder = new TempFolder();
        var annotations = Fixtures.VqaAnnotations();
        annotations["data_subtype"] = "train2014";
        var (_, annotationsPath) = Fixtures.WriteVqa(folder, annotations: annotations);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(folder.Path));

        Assert.Equal(annotationsPath, error.File);
        Assert.Null(error.Record);
        Assert.Equal("data_subtype", error.Field);
        Assert.Contains("\"train2014\" but the questions file", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Questions_file_without_annotations_beside_it_says_what_to_do()
    {
        using var folder = new TempFolder();
        var questions = folder.Write(Fixtures.VqaQuestionsName, Fixtures.VqaQuestions());

        var error = Assert.Throws<DatasetFormatException>(() => DatasetReader.Load(questions));

        Assert.Equal(questions, error.File);
        Assert.Contains("cannot find its VQA v2 annotations file beside it", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unofficial_answer_counts_are_reported_not_hidden()
    {
        using var folder = new TempFolder();
        var annotations = Fixtures.VqaAnnotations();
        annotations["annotations"]![1]!["answers"]!.AsArray().RemoveAt(0);
        Fixtures.WriteVqa(folder, annotations: annotations);

        var dataset = DatasetReader.Load(folder.Path);

        Assert.Equal(9, dataset.Samples[1].AllAnswers!.Count);
        var warning = Assert.Single(dataset.Warnings);
        Assert.Contains("1 annotations do not have the official 10 answers (first: question_id 262148001)", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Abstract_scene_images_follow_their_own_naming()
    {
        Assert.Equal("train2015/abstract_v002_train2015_000000011779.png", VqaImagePath("abstract_v002", "train2015", 11779));
        Assert.Equal("test2015/COCO_test2015_000000000001.jpg", VqaImagePath("mscoco", "test2015", 1));
    }

    private static string VqaImagePath(string dataType, string subtype, long imageId)
    {
        using var folder = new TempFolder();
        var questions = Fixtures.VqaQuestions();
        questions["data_type"] = dataType;
        questions["data_subtype"] = subtype;
        questions["questions"] = new JsonArray(new JsonObject { ["image_id"] = imageId, ["question"] = "What is it?", ["question_id"] = 5 });
        var annotations = Fixtures.VqaAnnotations();
        annotations["data_subtype"] = subtype;
        var only = annotations["annotations"]![0]!.DeepClone();
        only["image_id"] = imageId;
        only["question_id"] = 5;
        annotations["annotations"] = new JsonArray(only);
        var (q, a) = Fixtures.WriteVqa(folder, questions, annotations);
        return DatasetReader.LoadVqaV2(q, a).Samples.Single().Image!;
    }
}
