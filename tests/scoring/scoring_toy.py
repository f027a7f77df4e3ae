"""The demo instrument of docs/instrument-format.md as a Python dict: small enough to work every number by hand.

test_engine_docs.py checks that the YAML in the doc and this dict have the same checksum, so they cannot drift.
"""

from __future__ import annotations

from typing import Any


def toy() -> dict[str, Any]:
    """Return a fresh demo instrument: ops (60) and sales (40) maturity, results outcome, a 3-level staircase."""
    return {
        "format": 1,
        "id": "demo",
        "version": "1.0.0",
        "title": {"zh": "示例评估", "en": "Demo assessment"},
        "description": {"zh": "用于说明格式的小型示例。", "en": "A small example that shows the format."},
        "parameters": {
            "scales": {
                "adoption": [0, 0.1, 0.25, 0.5, 0.75, 1],
                "tri_state": {"no": 0, "partly": 0.5, "yes": 1},
                "in_use_planned": {"none": 0, "planned": 0.25, "in_use": 1, "both": 1},
                "requirement": {"none": 0, "partly": 0.5, "mostly": 0.8, "fully": 1},
            },
            "outcome_curve": {"anchors": [[0, 0.3], [10, 0.6], [20, 1]], "below": 0},
            "composite": {"maturity": 0.85, "outcome": 0.15},
            "bands": {
                "cutpoints": [20, 40, 60, 80],
                "labels": [
                    {"zh": "未起步", "en": "Not started"},
                    {"zh": "一级", "en": "Level 1"},
                    {"zh": "二级", "en": "Level 2"},
                    {"zh": "三级", "en": "Level 3"},
                    {"zh": "四级", "en": "Level 4"},
                ],
            },
            "levels": {
                "names": [
                    {"zh": "未达级", "en": "Below level 1"},
                    {"zh": "规划级", "en": "Planning"},
                    {"zh": "规范级", "en": "Standardised"},
                    {"zh": "集成级", "en": "Integrated"},
                ],
                "staircase": [[60], [75, 60], [85, 75, 60]],
                "overall_cap_above_min": 1,
                "empty_level_passes": False,
            },
            "na": {"insufficient_share": 0.3, "policy": "renormalise"},
            "confidence": {"default": 3, "max": 5, "low_below": 60},
            "evidence": {"cap": 0.5, "required_from_level": 3},
            "trust_gap": {"flag_above": 10},
            "cost_tiers": [
                {"tier": 1, "cost": 1, "label": {"zh": "低于5万元", "en": "Under ¥50k"}},
                {"tier": 2, "cost": 2, "label": {"zh": "5万至50万元", "en": "¥50k to ¥500k"}},
                {"tier": 3, "cost": 3, "label": {"zh": "50万元以上", "en": "Over ¥500k"}},
            ],
            "advice": {"max_items": 5},
            "priority": {
                "weights": {"kpi": 0.35, "cost": 0.25, "gap_bic": 0.2, "gap_next": 0.1, "ease": 0.1},
                "rank_weights": [0.5, 0.3, 0.2],
                "band_width": 20,
                "impact_max": 3,
                "impact_mix": {"kpi": 0.6, "cost": 0.4},
                "quadrant_split": 0.5,
                "top_n": 1,
            },
            "plausibility": {
                "all_max_min_questions": 3,
                "critical_gap_score": 60,
                "critical_gap_item_below": 0.5,
                "seconds_per_question": 8,
            },
            "reassessment": {"min_days": 90, "min_delta": 5, "jump_without_evidence": 20},
            "packs": {"max_shift": 5},
        },
        "evidence_kinds": {"doc": {"zh": "文件或截图", "en": "Document or screenshot"}},
        "dimensions": [
            {
                "id": "ops",
                "name": {"zh": "生产运营", "en": "Operations"},
                "role": "maturity",
                "weight": 60,
                "indicators": [
                    {
                        "id": "ops.a",
                        "name": {"zh": "计划与安全", "en": "Planning and security"},
                        "weight": 2,
                        "questions": [
                            {
                                "id": "q_single",
                                "type": "single",
                                "text": {"zh": "生产计划如何编制？", "en": "How is production planned?"},
                                "help": {"zh": "选最接近日常做法的一项。", "en": "Pick what you do on a normal day."},
                                "weight": 1,
                                "level": 1,
                                "critical": True,
                                "evidence": {"kinds": ["doc"]},
                                "crosswalk": {"miit": "数字化管理-计划"},
                                "options": [
                                    {"id": "none", "value": 0, "label": {"zh": "手工排产", "en": "By hand"}},
                                    {
                                        "id": "basic",
                                        "value": 0.5,
                                        "label": {"zh": "Excel排产", "en": "Spreadsheet"},
                                        "cost_tier": 1,
                                        "advice": {
                                            "zh": "统一Excel排产模板。",
                                            "en": "Use one shared scheduling sheet.",
                                        },
                                    },
                                    {
                                        "id": "full",
                                        "value": 1,
                                        "label": {"zh": "ERP自动排产", "en": "Scheduled by the ERP"},
                                        "cost_tier": 2,
                                        "advice": {
                                            "zh": "启用ERP生产计划模块。",
                                            "en": "Turn on the ERP planning module.",
                                        },
                                    },
                                ],
                            },
                            {
                                "id": "q_multi",
                                "type": "multi",
                                "text": {
                                    "zh": "已部署的安全措施（可多选）。",
                                    "en": "Security measures in place (tick all).",
                                },
                                "weight": 1,
                                "level": 2,
                                "options": [
                                    {
                                        "id": "a",
                                        "value": 0.5,
                                        "label": {"zh": "防火墙", "en": "Firewall"},
                                        "cost_tier": 1,
                                        "advice": {"zh": "部署防火墙。", "en": "Install a firewall."},
                                    },
                                    {
                                        "id": "b",
                                        "value": 0.5,
                                        "label": {"zh": "防病毒", "en": "Anti-virus"},
                                        "cost_tier": 1,
                                        "advice": {"zh": "安装防病毒软件。", "en": "Install anti-virus."},
                                    },
                                    {
                                        "id": "c",
                                        "value": 1,
                                        "label": {"zh": "自动备份", "en": "Automatic backup"},
                                        "cost_tier": 2,
                                        "advice": {"zh": "配置自动备份。", "en": "Set up automatic backups."},
                                    },
                                    {
                                        "id": "none",
                                        "value": 0,
                                        "exclusive": True,
                                        "label": {"zh": "以上都没有", "en": "None of these"},
                                    },
                                ],
                            },
                        ],
                    },
                    {
                        "id": "ops.b",
                        "name": {"zh": "设备与流程", "en": "Equipment and process"},
                        "weight": 1,
                        "questions": [
                            {
                                "id": "q_kpi",
                                "type": "kpi",
                                "text": {"zh": "设备联网率（%）。", "en": "Equipment networking rate (%)."},
                                "weight": 2,
                                "level": 2,
                                "unit": "%",
                                "range": [0, 100],
                                "anchors": [[0, 0], [20, 0.25], [50, 0.5], [80, 0.8], [95, 1]],
                                "below": 0,
                                "cost_tier": 2,
                                "advice": {
                                    "zh": "为主要设备加装数据采集。",
                                    "en": "Add data capture to the main machines.",
                                },
                            },
                            {
                                "id": "q_req",
                                "type": "requirement",
                                "text": {
                                    "zh": "主要业务流程在系统中闭环运行。",
                                    "en": "The main business process runs closed-loop in systems.",
                                },
                                "weight": 1,
                                "level": 3,
                                "na_allowed": True,
                                "industries": ["silk", "other"],
                                "evidence": {"kinds": ["doc"], "cap": 0.5},
                                "cost_tier": 3,
                                "advice": {
                                    "zh": "在系统中配置端到端流程。",
                                    "en": "Configure the end-to-end process in the system.",
                                },
                            },
                        ],
                    },
                ],
            },
            {
                "id": "sales",
                "name": {"zh": "销售", "en": "Sales"},
                "role": "maturity",
                "weight": 40,
                "indicators": [
                    {
                        "id": "sales.a",
                        "name": {"zh": "渠道与系统", "en": "Channels and systems"},
                        "weight": 1,
                        "questions": [
                            {
                                "id": "q_adopt",
                                "type": "adoption",
                                "text": {"zh": "云服务使用程度（0—5）。", "en": "Use of cloud services (0-5)."},
                                "weight": 1,
                                "level": 1,
                                "rows": [
                                    {
                                        "id": "r1",
                                        "label": {"zh": "云办公", "en": "Cloud office"},
                                        "cost_tier": 1,
                                        "advice": {"zh": "启用云办公。", "en": "Use cloud office tools."},
                                    },
                                    {
                                        "id": "r2",
                                        "label": {"zh": "云ERP", "en": "Cloud ERP"},
                                        "cost_tier": 1,
                                        "advice": {"zh": "试用云ERP。", "en": "Try a cloud ERP."},
                                    },
                                ],
                            },
                            {
                                "id": "q_tri",
                                "type": "tri_state",
                                "text": {"zh": "电子商务开展情况。", "en": "E-commerce."},
                                "weight": 1,
                                "level": 2,
                                "rows": [
                                    {
                                        "id": "x",
                                        "label": {"zh": "企业官网", "en": "Company website"},
                                        "cost_tier": 1,
                                        "advice": {"zh": "建设官网。", "en": "Build a website."},
                                    },
                                    {
                                        "id": "y",
                                        "label": {"zh": "行业网站", "en": "Industry portal"},
                                        "cost_tier": 1,
                                        "advice": {"zh": "入驻行业网站。", "en": "Join the industry portal."},
                                    },
                                ],
                            },
                            {
                                "id": "q_iup",
                                "type": "in_use_planned",
                                "text": {
                                    "zh": "车间系统（已在用 / 计划中）。",
                                    "en": "Shop-floor systems (in use / planned).",
                                },
                                "weight": 1,
                                "level": 3,
                                "evidence": {"kinds": ["doc"]},
                                "rows": [
                                    {
                                        "id": "m",
                                        "label": {"zh": "电子工单", "en": "Electronic work orders"},
                                        "cost_tier": 1,
                                        "advice": {"zh": "推行电子工单。", "en": "Introduce electronic work orders."},
                                    },
                                    {
                                        "id": "n",
                                        "label": {"zh": "MES", "en": "MES"},
                                        "cost_tier": 2,
                                        "advice": {"zh": "上线MES。", "en": "Deploy an MES."},
                                    },
                                ],
                            },
                        ],
                    }
                ],
            },
            {
                "id": "results",
                "name": {"zh": "经营成效", "en": "Results"},
                "role": "outcome",
                "weight": 100,
                "indicators": [
                    {
                        "id": "results.k",
                        "name": {"zh": "经营指标", "en": "Business indicators"},
                        "weight": 1,
                        "questions": [
                            {
                                "id": "q_out1",
                                "type": "kpi_delta",
                                "direction": "higher_better",
                                "text": {"zh": "人均产值（万元）。", "en": "Output per employee (¥10k)."},
                                "weight": 1,
                            },
                            {
                                "id": "q_out2",
                                "type": "kpi_delta",
                                "direction": "lower_better",
                                "text": {"zh": "不良率（%）。", "en": "Defect rate (%)."},
                                "weight": 1,
                                "na_allowed": True,
                            },
                        ],
                    }
                ],
            },
        ],
        "packs": [
            {
                "id": "silk",
                "name": {"zh": "茧丝绸", "en": "Cocoon silk"},
                "reweight": {"ops": 5, "sales": -5},
                "anchors": {"q_kpi": [[0, 0], [30, 0.25], [60, 0.5], [85, 0.8], [95, 1]]},
                "impacts": {"kpis": {"k1": {"sales": 1}}},
                "indicators": [
                    {
                        "id": "silk.x",
                        "dimension": "ops",
                        "name": {"zh": "缫丝", "en": "Reeling"},
                        "weight": 1,
                        "questions": [
                            {
                                "id": "q_pack",
                                "type": "single",
                                "text": {"zh": "是否采用自动缫丝机？", "en": "Are automatic reeling machines used?"},
                                "weight": 1,
                                "level": 1,
                                "options": [
                                    {"id": "no", "value": 0, "label": {"zh": "否", "en": "No"}},
                                    {
                                        "id": "yes",
                                        "value": 1,
                                        "label": {"zh": "是", "en": "Yes"},
                                        "cost_tier": 3,
                                        "advice": {"zh": "引入自动缫丝机。", "en": "Introduce automatic reelers."},
                                    },
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
        "priority": {
            "kpis": [
                {"id": "k1", "name": {"zh": "交期", "en": "Delivery"}, "impact": {"ops": 3, "sales": 0}},
                {"id": "k2", "name": {"zh": "不良率", "en": "Defect rate"}, "impact": {"ops": 1, "sales": 2}},
                {"id": "k3", "name": {"zh": "能耗", "en": "Energy"}, "impact": {"ops": 2, "sales": 0}},
            ],
            "cost_categories": [
                {"id": "c1", "name": {"zh": "原料", "en": "Materials"}, "impact": {"ops": 2, "sales": 1}},
                {"id": "c2", "name": {"zh": "物流", "en": "Logistics"}, "impact": {"ops": 0, "sales": 3}},
            ],
        },
        "plausibility": {
            "rules": [
                {
                    "id": "kpi_vs_multi",
                    "severity": "warning",
                    "when": [{"question": "q_multi", "score_gte": 0.75}, {"question": "q_kpi", "value_lt": 70}],
                    "message": {
                        "zh": "安全措施很全，但设备联网率偏低，请核实。",
                        "en": "Many security measures but a low networking rate; please check.",
                    },
                }
            ]
        },
    }
