"""EventBridge target input: the AWS documentation's examples, escaping, and what is refused."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mangaassist.events.jsonpath import WILDCARD, InvalidJsonPath, parse_path
from mangaassist.events.transform import InputTransform, InvalidInputTransform

# The example EC2 event of the EventBridge user guide ("Input transform examples").
EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "7bf73129-1428-4cd3-a780-95db273d1602",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "123456789012",
    "time": "2015-11-11T21:29:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"],
    "detail": {"instance-id": "i-0123456789", "state": "RUNNING"},
}
EC2_PATHS = {"timestamp": "$.time", "instance": "$.detail.instance-id", "state": "$.detail.state"}
RULE_ARN = "arn:aws:events:us-east-2:123456789012:rule/example"


def _order_event(detail: dict[str, Any]) -> dict[str, Any]:
    return {
        **EC2_EVENT,
        "detail-type": "OrderPaid",
        "source": "mangaassist.orders",
        "detail": detail,
    }


def _transformed(template: str, paths: dict[str, str], event: dict[str, Any]) -> str:
    transform = InputTransform(input_paths_map=paths, input_template=template)
    transform.validate()
    return transform.apply(event, rule_name="example", rule_arn=RULE_ARN)


# --- no transform, Input, InputPath -------------------------------------------------------------


def test_without_a_transform_the_target_gets_the_whole_event() -> None:
    assert json.loads(InputTransform().apply(EC2_EVENT)) == EC2_EVENT


def test_a_constant_input_is_delivered_exactly_as_written() -> None:
    constant = '{ "task" : "reindex",  "full": true }'
    transform = InputTransform(input=constant)
    transform.validate()
    assert transform.apply(EC2_EVENT) == constant


def test_input_path_detail_delivers_only_the_detail_object() -> None:
    transform = InputTransform(input_path="$.detail")
    transform.validate()
    assert json.loads(transform.apply(EC2_EVENT)) == EC2_EVENT["detail"]


@pytest.mark.parametrize(
    ("path", "delivered"),
    [
        ("$", json.dumps(EC2_EVENT, separators=(",", ":"))),
        # A string is delivered as JSON, quotes included (as recorded against AWS).
        ("$.detail.state", '"RUNNING"'),
        ("$.detail-type", '"EC2 Instance State-change Notification"'),
        ("$['detail-type']", '"EC2 Instance State-change Notification"'),
        ('$["detail"]["instance-id"]', '"i-0123456789"'),
        ("$.resources[0]", '"arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111"'),
        ("$.detail.*", '["i-0123456789","RUNNING"]'),
        # Nothing selected: the target gets JSON null.
        ("$.detail.missing", "null"),
        ("$.resources[5]", "null"),
        ("$.detail[0]", "null"),
    ],
)
def test_input_path_delivers_the_selected_value_as_json(path: str, delivered: str) -> None:
    transform = InputTransform(input_path=path)
    transform.validate()
    assert transform.apply(EC2_EVENT) == delivered


def test_wildcard_paths_collect_every_match_into_an_array() -> None:
    event = _order_event({"items": [{"id": "op-1"}, {"id": "op-2"}, {"sku": "x"}]})
    out = _transformed('{"ids": <ids>}', {"ids": "$.detail.items[*].id"}, event)
    assert json.loads(out) == {"ids": ["op-1", "op-2"]}


# --- InputTransformer: the user guide's examples -------------------------------------------------


@pytest.mark.parametrize(
    ("template", "output"),
    [
        ("<instance> is in state <state>", "i-0123456789 is in state RUNNING"),
        ('"instance <instance> is in <state>"', '"instance i-0123456789 is in RUNNING"'),
        (
            '"instance \\"<instance>\\" is in <state>"',
            '"instance \\"i-0123456789\\" is in RUNNING"',
        ),
        ('"<aws.events.rule-name> triggered"', '"example triggered"'),
    ],
    ids=["plain-text", "simple-string", "string-with-escaped-quotes", "reserved-in-string"],
)
def test_string_templates_match_the_user_guide(template: str, output: str) -> None:
    assert _transformed(template, EC2_PATHS, EC2_EVENT) == output


@pytest.mark.parametrize(
    ("template", "output"),
    [
        (
            '{\n  "instance" : <instance>,\n  "state": <state>\n}',
            {"instance": "i-0123456789", "state": "RUNNING"},
        ),
        (
            '{"instance" : <instance>, "state": "<state>",'
            ' "instanceStatus": "instance \\"<instance>\\" is in <state>"}',
            {
                "instance": "i-0123456789",
                "state": "RUNNING",
                "instanceStatus": 'instance "i-0123456789" is in RUNNING',
            },
        ),
        (
            '{"instance" : <instance>, "state": [ 9, <state>, true ], "Transformed" : "Yes"}',
            {"instance": "i-0123456789", "state": [9, "RUNNING", True], "Transformed": "Yes"},
        ),
        (
            '{"instance" : <instance>, "state": <state>, "ruleArn" : <aws.events.rule-arn>,'
            ' "ruleName" : <aws.events.rule-name>}',
            {
                "instance": "i-0123456789",
                "state": "RUNNING",
                "ruleArn": RULE_ARN,
                "ruleName": "example",
            },
        ),
    ],
    ids=["simple-json", "strings-and-variables", "mixed-static", "reserved-variables"],
)
def test_json_templates_match_the_user_guide(template: str, output: dict[str, Any]) -> None:
    assert json.loads(_transformed(template, EC2_PATHS, EC2_EVENT)) == output


def test_the_api_reference_example_mixes_quoted_and_unquoted_variables() -> None:
    template = '{"myInstance": <instance>,"myStatus": "<instance> is in state \\"<state>\\""}'
    out = json.loads(_transformed(template, EC2_PATHS, EC2_EVENT))
    assert out == {"myInstance": "i-0123456789", "myStatus": 'i-0123456789 is in state "RUNNING"'}


def test_json_output_is_minified_but_string_contents_keep_their_spaces() -> None:
    out = _transformed(
        '{\n  "message" : "state  is <state>" ,\n  "n": [ 1, 2 ]\n}', EC2_PATHS, EC2_EVENT
    )
    assert out == '{"message":"state  is RUNNING","n":[1,2]}'


def test_values_outside_quotes_keep_their_json_type() -> None:
    event = _order_event({"qty": 3, "gift": False, "note": None, "tags": ["manga", "初版"]})
    paths = {"qty": "$.detail.qty", "gift": "$.detail.gift", "note": "$.detail.note"}
    out = _transformed(
        '{"q": <qty>, "g": <gift>, "n": <note>, "t": <tags>}',
        {**paths, "tags": "$.detail.tags"},
        event,
    )
    assert json.loads(out) == {"q": 3, "g": False, "n": None, "t": ["manga", "初版"]}


def test_objects_in_a_plain_text_template_are_written_as_compact_json() -> None:
    out = _transformed("detail: <detail>", {"detail": "$.detail"}, EC2_EVENT)
    assert out == 'detail: {"instance-id":"i-0123456789","state":"RUNNING"}'


# --- missing paths -------------------------------------------------------------------------------


def test_a_missing_path_inside_quotes_gives_an_empty_string() -> None:
    paths = {**EC2_PATHS, "reason": "$.detail.reason"}
    out = _transformed('"<instance> stopped: <reason>"', paths, EC2_EVENT)
    assert out == '"i-0123456789 stopped: "'


def test_a_missing_path_outside_quotes_gives_an_empty_string_as_recorded_on_aws() -> None:
    out = _transformed(
        '{"state": <state>, "reason": <reason>}', {**EC2_PATHS, "reason": "$.x.y"}, EC2_EVENT
    )
    assert json.loads(out) == {"state": "RUNNING", "reason": ""}


def test_a_missing_path_in_a_plain_text_template_disappears() -> None:
    out = _transformed(
        "<instance> (<reason>)", {**EC2_PATHS, "reason": "$.detail.reason"}, EC2_EVENT
    )
    assert out == "i-0123456789 ()"


# --- escaping ------------------------------------------------------------------------------------

TRICKY = 'ワンピース 第1巻 🏴\u200d☠️ "初版" \\ C:\\manga\nline 2\t</script>'


def test_strings_inside_quotes_are_escaped_and_japanese_stays_readable() -> None:
    event = _order_event({"title": TRICKY, "orderId": "ord-42"})
    paths = {"title": "$.detail.title", "orderId": "$.detail.orderId"}
    out = _transformed('{"text": "Order <orderId>: <title>", "raw": <title>}', paths, event)
    assert json.loads(out) == {"text": f"Order ord-42: {TRICKY}", "raw": TRICKY}
    assert "ワンピース" in out
    assert "🏴" in out
    assert "\\u" not in out


def test_a_non_string_value_inside_quotes_becomes_escaped_json_text() -> None:
    out = _transformed('{"summary": "detail=<detail>"}', {"detail": "$.detail"}, EC2_EVENT)
    summary = json.loads(out)["summary"]
    assert summary == 'detail={"instance-id":"i-0123456789","state":"RUNNING"}'


def test_values_that_look_like_placeholders_are_not_substituted_again() -> None:
    event = _order_event({"a": "<b>", "b": "secret"})
    out = _transformed('"<a>/<b>"', {"a": "$.detail.a", "b": "$.detail.b"}, event)
    assert out == '"<b>/secret"'


@given(st.text())
def test_any_string_placed_in_quotes_comes_back_unchanged(value: str) -> None:
    out = _transformed('{"x": "<v>"}', {"v": "$.detail.v"}, _order_event({"v": value}))
    assert json.loads(out)["x"] == value


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=12,
)


@given(JSON_VALUES)
def test_any_json_value_placed_outside_quotes_comes_back_unchanged(value: Any) -> None:
    out = _transformed('{"x": <v>}', {"v": "$.detail.v"}, _order_event({"v": value}))
    assert json.loads(out)["x"] == value


# --- predefined variables ------------------------------------------------------------------------


def test_aws_events_event_is_the_envelope_without_detail() -> None:
    transform = InputTransform(input_template='{"original": <aws.events.event>}')
    transform.validate()
    original = json.loads(transform.apply(EC2_EVENT))["original"]
    assert "detail" not in original
    assert original["detailType"] == "EC2 Instance State-change Notification"
    assert "detail-type" not in original
    assert original["id"] == EC2_EVENT["id"]


def test_aws_events_event_json_is_the_whole_event() -> None:
    transform = InputTransform(input_template='{"json": <aws.events.event.json>}')
    transform.validate()
    assert json.loads(transform.apply(EC2_EVENT)) == {"json": EC2_EVENT}


def test_ingestion_time_defaults_to_the_event_time_and_can_be_given() -> None:
    transform = InputTransform(input_template='"at <aws.events.event.ingestion-time>"')
    transform.validate()
    assert transform.apply(EC2_EVENT) == '"at 2015-11-11T21:29:54Z"'
    assert (
        transform.apply(EC2_EVENT, ingestion_time="2015-11-11T21:29:55Z")
        == '"at 2015-11-11T21:29:55Z"'
    )


def test_rule_name_and_arn_fill_their_variables_and_default_to_empty() -> None:
    transform = InputTransform(input_template="<aws.events.rule-name>|<aws.events.rule-arn>")
    transform.validate()
    assert transform.apply(EC2_EVENT, rule_name="r", rule_arn=RULE_ARN) == f"r|{RULE_ARN}"
    assert transform.apply(EC2_EVENT) == "|"


def test_angle_brackets_that_are_not_placeholder_names_stay_as_text() -> None:
    out = _transformed("if a <b and c> d then <state>, <>", EC2_PATHS, EC2_EVENT)
    assert out == "if a <b and c> d then RUNNING, <>"


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("transform", "message"),
    [
        (InputTransform(input="{}", input_path="$.detail"), "only one of"),
        (InputTransform(input="{}", input_template='"x"'), "only one of"),
        (
            InputTransform(
                input_path="$.detail", input_paths_map={"a": "$.a"}, input_template="<a>"
            ),
            "only one of",
        ),
        (InputTransform(input="not json"), "not valid JSON"),
        (InputTransform(input=""), "not valid JSON"),
        (InputTransform(input='{"n": NaN}'), "not valid JSON"),
        (InputTransform(input=json.dumps({"k": "x" * 8192})), "8192"),
        (InputTransform(input_path="$." + "a" * 256), "256"),
        (InputTransform(input_paths_map={"a": "$.a"}), "needs an InputTemplate"),
        (InputTransform(input_template=""), "1 to 8192"),
        (InputTransform(input_template='"' + "x" * 8192 + '"'), "1 to 8192"),
        (
            InputTransform(input_paths_map={"aws.events.rule-name": "$.a"}, input_template='"x"'),
            "reserved",
        ),
        (InputTransform(input_paths_map={"AWS.mine": "$.a"}, input_template='"x"'), "reserved"),
        (InputTransform(input_paths_map={"my var": "$.a"}, input_template='"x"'), "A-Z a-z 0-9"),
        (InputTransform(input_paths_map={"": "$.a"}, input_template='"x"'), "A-Z a-z 0-9"),
        (
            InputTransform(input_paths_map={"a": "detail.a"}, input_template="<a>"),
            "must start with",
        ),
        (
            InputTransform(
                input_paths_map={f"v{i}": "$.a" for i in range(101)}, input_template='"x"'
            ),
            "over 100",
        ),
        (
            InputTransform(input_paths_map={"a": "$.a"}, input_template='"<a> <undefined>"'),
            "<undefined>",
        ),
        (InputTransform(input_paths_map={"k": "$.a"}, input_template="{<k>: 1}"), "not valid JSON"),
        (InputTransform(input_template='{"broken": }'), "not valid JSON"),
        (InputTransform(input_template='{"e": "<aws.events.event.json>"}'), "not inside quotes"),
        (InputTransform(input_template='{"e": "<aws.events.event>"}'), "not inside quotes"),
    ],
)
def test_invalid_configurations_are_refused(transform: InputTransform, message: str) -> None:
    with pytest.raises(InvalidInputTransform, match=message):
        transform.validate()


@pytest.mark.parametrize(
    "path",
    [
        "detail",
        "$..state",
        "$.resources[-1]",
        "$.resources[0:2]",
        "$.resources[0,1]",
        "$.detail[?(@.state)]",
        "$.detail.",
        "$ .detail",
        "$.detail state",
        "$.a[01]",
        "$['unterminated]",
    ],
)
def test_paths_outside_the_supported_subset_are_refused(path: str) -> None:
    with pytest.raises(InvalidInputTransform, match="InputPath"):
        InputTransform(input_path=path).validate()


def test_the_parsed_path_names_each_step() -> None:
    path = parse_path("$.detail['detail-type'][2].items[*].a/b")
    assert path.steps == ("detail", "detail-type", 2, "items", WILDCARD, "a/b")
    assert parse_path(r"$['it\'s']").steps == ("it's",)
    with pytest.raises(InvalidJsonPath):
        parse_path("$.a..b")


def test_a_valid_transform_and_the_object_variables_outside_quotes_pass_validation() -> None:
    InputTransform().validate()
    InputTransform(
        input_template='{"e": <aws.events.event>, "j": <aws.events.event.json>}'
    ).validate()
    InputTransform(
        input_paths_map={f"v{i}": "$.a" for i in range(100)}, input_template='"<v0>"'
    ).validate()


# --- from_config ---------------------------------------------------------------------------------


def test_from_config_reads_pascal_case_as_in_the_api_and_cloudformation() -> None:
    transform = InputTransform.from_config(
        {
            "InputTransformer": {
                "InputPathsMap": EC2_PATHS,
                "InputTemplate": "<instance> is in state <state>",
            }
        }
    )
    assert transform.input_template == "<instance> is in state <state>"
    assert transform.apply(EC2_EVENT) == "i-0123456789 is in state RUNNING"
    assert InputTransform.from_config({"InputPath": "$.detail"}) == InputTransform(
        input_path="$.detail"
    )
    assert InputTransform.from_config({"Input": '{"a": 1}'}).apply(EC2_EVENT) == '{"a": 1}'
    assert InputTransform.from_config({}) == InputTransform()


def test_from_config_reads_camel_case() -> None:
    transform = InputTransform.from_config(
        {"inputTransformer": {"inputPathsMap": {"s": "$.detail.state"}, "inputTemplate": '"<s>"'}}
    )
    assert transform.apply(EC2_EVENT) == '"RUNNING"'
    assert InputTransform.from_config({"inputPath": "$.detail"}).input_path == "$.detail"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"Arn": "arn:aws:sqs:us-east-1:1:q"}, "unknown key 'Arn'"),
        ({"InputTransformer": {"InputTemplate": '"x"', "Paths": {}}}, "unknown key 'Paths'"),
        ({"Input": "{}", "input": "{}"}, "given twice"),
        ({"Input": {"a": 1}}, "Input must be a string"),
        ({"InputPath": 3}, "InputPath must be a string"),
        ({"InputTransformer": '"x"'}, "must be an object"),
        ({"InputTransformer": {"InputPathsMap": {"a": "$.a"}}}, "needs an InputTemplate"),
        (
            {"InputTransformer": {"InputPathsMap": {"a": 1}, "InputTemplate": "<a>"}},
            "JSONPath strings",
        ),
        ({"Input": "{}", "InputPath": "$.detail"}, "only one of"),
        ({"InputPath": "$..x"}, "InputPath"),
    ],
)
def test_from_config_refuses_what_it_cannot_use(config: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInputTransform, match=message):
        InputTransform.from_config(config)


def test_from_config_keeps_its_own_copy_of_the_paths_map() -> None:
    paths = {"s": "$.detail.state"}
    transform = InputTransform.from_config(
        {"InputTransformer": {"InputPathsMap": paths, "InputTemplate": "<s>"}}
    )
    paths["s"] = "$.detail.instance-id"
    assert transform.apply(EC2_EVENT) == '"RUNNING"'
